#include "errand/config.h"

#include <fstream>
#include <set>
#include <sstream>

// GCC 12 reports a false -Wdangling-pointer inside yaml-cpp's node code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#include <yaml-cpp/yaml.h>
#pragma GCC diagnostic pop

namespace errand {

namespace {

Error bad(const YAML::Node& node, const std::string& what) {
  auto mark = node.Mark();
  std::string where = mark.line >= 0 ? "line " + std::to_string(mark.line + 1) + ": " : "";
  return fail(Errc::invalid_argument, "config: " + where + what);
}

template <class T>
Result<T> scalar(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) return bad(node, "'" + key + "' must be a single value");
  try {
    return node.as<T>();
  } catch (const YAML::Exception&) {
    return bad(node, "'" + key + "' has the wrong type: '" + node.Scalar() + "'");
  }
}

/// Bounds on a config's job arguments: aliases let a small file describe a
/// huge (billion laughs) or endless (`&a [1, *a]`) value.
constexpr int kMaxArgsDepth = 64;
constexpr std::size_t kMaxArgsValues = 100'000;

/// YAML → JSON for job arguments: integers, floats, booleans, null and
/// strings keep their types; quoted scalars stay strings. Fails past
/// kMaxArgsDepth levels or kMaxArgsValues values, and on keys that are not
/// plain values.
Result<Json> yaml_to_json(const YAML::Node& n, int depth, std::size_t& values) {
  if (++values > kMaxArgsValues)
    return bad(n, "'args' expand to more than " + std::to_string(kMaxArgsValues) +
                      " values (through aliases?)");
  if (depth > kMaxArgsDepth)
    return bad(n, "'args' nest deeper than " + std::to_string(kMaxArgsDepth) +
                      " levels (an alias that refers to itself?)");
  if (n.IsSequence()) {
    Json a = Json::array();
    for (const auto& x : n) {
      auto v = yaml_to_json(x, depth + 1, values);
      if (!v) return v.error();
      a.push_back(std::move(v).value());
    }
    return a;
  }
  if (n.IsMap()) {
    Json o = Json::object();
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar()) return bad(it->first, "keys in 'args' must be plain values");
      auto v = yaml_to_json(it->second, depth + 1, values);
      if (!v) return v.error();
      o[it->first.Scalar()] = std::move(v).value();
    }
    return o;
  }
  if (n.IsNull()) return Json(nullptr);
  const std::string& text = n.Scalar();
  if (n.Tag() == "!") return Json(text);  // quoted
  std::int64_t i = 0;
  double d = 0;
  bool b = false;
  if (YAML::convert<std::int64_t>::decode(n, i)) return Json(i);
  if (YAML::convert<double>::decode(n, d)) return Json(d);
  if (YAML::convert<bool>::decode(n, b)) return Json(b);
  return Json(text);
}

Result<std::chrono::milliseconds> seconds(const YAML::Node& node, const std::string& key) {
  auto v = scalar<double>(node, key);
  if (!v) return v.error();
  if (*v < 0) return bad(node, "'" + key + "' must not be negative");
  // Ten years: past that (or .inf, .nan) the millisecond count would not fit.
  constexpr double kMaxSeconds = 315'360'000;
  if (!(*v <= kMaxSeconds)) return bad(node, "'" + key + "' must be at most 315360000 seconds");
  return std::chrono::milliseconds(static_cast<std::int64_t>(*v * 1000));
}

Result<Config> parse_config_root(const YAML::Node& root);

}  // namespace

namespace {

Result<Isolation> isolation_value(const YAML::Node& v) {
  auto s = scalar<std::string>(v, "isolation");
  if (!s) return s.error();
  auto iso = isolation_from_string(*s);
  if (!iso || *iso == Isolation::inherit)
    return bad(v, "'isolation' must be thread, process or fork (got '" + *s + "')");
  return *iso;
}

Result<Isolation> queue_isolation(const YAML::Node& v) {
  if (!v.IsMap() || v.size() != 1 || !v["isolation"])
    return bad(v, "a queue's third element must be {isolation: thread|process|fork}");
  return isolation_value(v["isolation"]);
}

Status parse_children(const YAML::Node& v, ChildOptions& out) {
  if (!v.IsMap())
    return bad(v,
               "'children' must map max_memory_mb, hard_memory_mb, address_space_mb, "
               "max_jobs_per_child, kill_grace to numbers");
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string key = it->first.as<std::string>();
    if (key == "kill_grace") {
      auto d = seconds(it->second, key);
      if (!d) return d.error();
      out.kill_grace = *d;
      continue;
    }
    auto n = scalar<long long>(it->second, key);
    if (!n) return n.error();
    if (*n < 0) return bad(it->second, "'" + key + "' must not be negative");
    const auto value = static_cast<std::size_t>(*n);
    if (key == "max_memory_mb")
      out.max_memory_mb = value;
    else if (key == "hard_memory_mb")
      out.hard_memory_mb = value;
    else if (key == "address_space_mb")
      out.address_space_mb = value;
    else if (key == "max_jobs_per_child")
      out.max_jobs_per_child = value;
    else
      return bad(it->first, "unknown key 'children." + key + "'");
  }
  return {};
}

}  // namespace

Result<Config> parse_config(std::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    return fail(Errc::invalid_argument, std::string("config: malformed YAML: ") + e.what());
  }
  // What the checks below miss (a conversion yaml-cpp refuses) is still an
  // error naming the line, never an "unexpected error".
  try {
    return parse_config_root(root);
  } catch (const YAML::Exception& e) {
    return fail(Errc::invalid_argument,
                "config: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

namespace {

Result<Config> parse_config_root(const YAML::Node& root) {
  Config c;
  if (root.IsNull()) return c;
  if (!root.IsMap()) return fail(Errc::invalid_argument, "config: the top level must be a mapping");
  static const std::set<std::string> known = {"store",           "concurrency",
                                              "timeout",         "queues",
                                              "stores",          "tag",
                                              "labels",          "log_format",
                                              "poll_interval",   "heartbeat_interval",
                                              "process_ttl",     "max_retries",
                                              "dead_max_jobs",   "dead_timeout",
                                              "rescue_interval", "cron",
                                              "isolation",       "children",
                                              "max_crashes",     "log_level",
                                              "record_status",   "cancel_poll_interval",
                                              "publish_events",  "progress_interval"};
  for (auto it = root.begin(); it != root.end(); ++it) {
    std::string key = it->first.as<std::string>();
    // A copy: `it->second` lives in a temporary the iterator hands out.
    const YAML::Node v = it->second;
    if (!known.count(key)) return bad(it->first, "unknown key '" + key + "'");
    if (key == "store") {
      auto s = scalar<std::string>(v, key);
      if (!s) return s.error();
      c.store = *s;
    } else if (key == "concurrency") {
      auto n = scalar<int>(v, key);
      if (!n) return n.error();
      if (*n < 1) return bad(v, "'concurrency' must be at least 1");
      c.server.concurrency = *n;
    } else if (key == "timeout") {
      auto d = seconds(v, key);
      if (!d) return d.error();
      c.server.shutdown_timeout = *d;
    } else if (key == "poll_interval" || key == "heartbeat_interval" || key == "process_ttl" ||
               key == "rescue_interval" || key == "cancel_poll_interval" ||
               key == "progress_interval") {
      auto d = seconds(v, key);
      if (!d) return d.error();
      if (d->count() == 0) return bad(v, "'" + key + "' must be positive");
      if (key == "poll_interval") c.server.poll_interval = *d;
      if (key == "heartbeat_interval") c.server.heartbeat_interval = *d;
      if (key == "process_ttl") c.server.process_ttl = *d;
      if (key == "rescue_interval") c.server.rescue_interval = *d;
      if (key == "cancel_poll_interval") c.server.cancel_poll_interval = *d;
      if (key == "progress_interval") c.server.progress_interval = *d;
    } else if (key == "record_status" || key == "publish_events") {
      auto b = scalar<bool>(v, key);
      if (!b) return b.error();
      (key == "record_status" ? c.server.record_status : c.server.publish_events) = *b;
    } else if (key == "queues") {
      if (!v.IsSequence()) return bad(v, "'queues' must be a list of names or [name, weight]");
      c.server.queues.clear();
      for (const auto& q : v) {
        QueueWeight qw;
        if (q.IsScalar()) {
          qw.name = q.as<std::string>();
        } else if (q.IsSequence() && (q.size() == 2 || q.size() == 3) && q[0].IsScalar() &&
                   q[1].IsScalar()) {
          qw.name = q[0].as<std::string>();
          auto w = scalar<int>(q[1], "queue weight");
          if (!w) return w.error();
          if (*w < 0) return bad(q, "queue weight must not be negative");
          qw.weight = *w;
          if (q.size() == 3) {
            auto iso = queue_isolation(q[2]);
            if (!iso) return iso.error();
            qw.isolation = *iso;
          }
        } else {
          return bad(
              q, "each queue must be a name, [name, weight] or [name, weight, {isolation: ...}]");
        }
        if (qw.name.empty()) return bad(q, "queue name must not be empty");
        c.server.queues.push_back(std::move(qw));
      }
      if (c.server.queues.empty()) return bad(v, "'queues' must not be empty");
    } else if (key == "isolation") {
      auto iso = isolation_value(v);
      if (!iso) return iso.error();
      c.server.isolation = *iso;
    } else if (key == "children") {
      if (auto st = parse_children(v, c.server.children); !st) return st.error();
    } else if (key == "stores") {
      if (!v.IsMap()) return bad(v, "'stores' must map queue names to store URLs");
      for (auto s = v.begin(); s != v.end(); ++s) {
        auto url = scalar<std::string>(s->second, "stores");
        if (!url) return url.error();
        c.queue_stores[s->first.as<std::string>()] = *url;
      }
    } else if (key == "cron") {
      if (!v.IsMap()) return bad(v, "'cron' must map entry names to {cron, class, args, ...}");
      for (auto e = v.begin(); e != v.end(); ++e) {
        CronEntry entry;
        entry.name = e->first.as<std::string>();
        const YAML::Node spec = e->second;
        if (!spec.IsMap()) return bad(spec, "cron entry '" + entry.name + "' must be a mapping");
        for (auto f = spec.begin(); f != spec.end(); ++f) {
          std::string fk = f->first.as<std::string>();
          const YAML::Node fv = f->second;
          if (fk == "cron" || fk == "class" || fk == "queue" || fk == "time_zone" ||
              fk == "missed") {
            auto str = scalar<std::string>(fv, fk);
            if (!str) return str.error();
            if (fk == "cron") entry.expression = *str;
            if (fk == "class") entry.job_class = *str;
            if (fk == "queue") entry.queue = *str;
            if (fk == "time_zone") entry.time_zone = *str;
            if (fk == "missed") {
              if (*str == "skip")
                entry.missed = MissedTicks::skip;
              else if (*str == "run_once")
                entry.missed = MissedTicks::run_once;
              else
                return bad(fv, "'missed' must be skip or run_once");
            }
          } else if (fk == "args") {
            if (!fv.IsSequence()) return bad(fv, "cron 'args' must be a list");
            std::size_t values = 0;
            auto args = yaml_to_json(fv, 0, values);
            if (!args) return args.error();
            entry.args = std::move(args).value();
          } else {
            return bad(f->first, "unknown key '" + fk + "' in cron entry '" + entry.name + "'");
          }
        }
        if (entry.expression.empty())
          return bad(spec, "cron entry '" + entry.name + "' needs 'cron'");
        if (entry.job_class.empty())
          return bad(spec, "cron entry '" + entry.name + "' needs 'class'");
        if (auto ex = CronExpression::parse(entry.expression); !ex)
          return bad(spec, "cron entry '" + entry.name + "': " + ex.error().message());
        c.server.cron.push_back(std::move(entry));
      }
    } else if (key == "tag") {
      auto s = scalar<std::string>(v, key);
      if (!s) return s.error();
      c.server.tag = *s;
    } else if (key == "labels") {
      if (!v.IsSequence()) return bad(v, "'labels' must be a list");
      for (const auto& l : v) c.server.labels.push_back(l.as<std::string>());
    } else if (key == "log_format") {
      auto s = scalar<std::string>(v, key);
      if (!s) return s.error();
      if (*s == "text")
        c.server.log_format = LogFormat::text;
      else if (*s == "json")
        c.server.log_format = LogFormat::json;
      else
        return bad(v, "'log_format' must be text or json");
    } else if (key == "log_level") {
      auto s = scalar<std::string>(v, key);
      if (!s) return s.error();
      c.log_level = log::level_from_string(*s);
      if (!c.log_level) return bad(v, "'log_level' must be debug, info, warn or error");
    } else if (key == "max_crashes") {
      auto n = scalar<int>(v, key);
      if (!n) return n.error();
      if (*n < 0) return bad(v, "'max_crashes' must not be negative (0: never quarantine)");
      c.server.max_crashes = *n;
    } else if (key == "max_retries") {
      auto n = scalar<int>(v, key);
      if (!n) return n.error();
      if (*n < 0) return bad(v, "'max_retries' must not be negative");
      c.server.max_retries = *n;
    } else if (key == "dead_max_jobs") {
      auto n = scalar<std::int64_t>(v, key);
      if (!n) return n.error();
      if (*n < 1) return bad(v, "'dead_max_jobs' must be at least 1");
      c.server.dead.max_jobs = static_cast<std::size_t>(*n);
    } else if (key == "dead_timeout") {
      auto n = scalar<double>(v, key);
      if (!n) return n.error();
      c.server.dead.max_age_seconds = *n;
    }
  }
  return c;
}

}  // namespace

Result<Config> load_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) return fail(Errc::io, "config: cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  auto c = parse_config(ss.str());
  if (!c) return fail(c.code(), path + ": " + c.error().message());
  return c;
}

}  // namespace errand
