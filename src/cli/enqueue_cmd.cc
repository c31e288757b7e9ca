// `errand enqueue CLASS 'JSON args'`: pushes one job through errand::Client
// and prints its jid.
#include <cmath>
#include <ctime>
#include <iostream>
#include <optional>
#include <regex>

#include "cli/cli.h"
#include "errand/payload_limits.h"

namespace errand::cli {

namespace {

struct EnqueueFlags {
  StoreFlags store;
  std::string job_class;
  std::string args = "[]";
  std::string queue;
  double in_seconds = 0;
  std::string at;
  std::string retry;
  std::vector<std::string> requires_;
};

/// Epoch seconds ("1700000000.5") or ISO 8601 ("2025-03-01T12:00:00Z",
/// "2025-03-01 12:00", "2025-03-01T12:00:00.250+02:00"; no zone means UTC).
Result<double> parse_time(const std::string& text) {
  static const std::regex kEpoch(R"(\d+(\.\d+)?)");
  if (std::regex_match(text, kEpoch)) return std::stod(text);
  static const std::regex kIso(
      R"((\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?)");
  std::smatch m;
  if (!std::regex_match(text, m, kIso))
    return fail(Errc::invalid_argument,
                "--at: '" + text + "' is neither epoch seconds nor an ISO 8601 time");
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  if (m[4].matched) {
    tm.tm_hour = std::stoi(m[4]);
    tm.tm_min = std::stoi(m[5]);
  }
  if (m[6].matched) tm.tm_sec = std::stoi(m[6]);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60)
    return fail(Errc::invalid_argument, "--at: '" + text + "' is not a valid date and time");
  double t = static_cast<double>(::timegm(&tm));
  if (m[7].matched) t += std::stod("0" + m[7].str());
  if (m[8].matched && m[8].str() != "Z") {
    std::string z = m[8].str();
    const int sign = z[0] == '-' ? -1 : 1;
    z.erase(0, 1);
    if (z.find(':') != std::string::npos) z.erase(z.find(':'), 1);
    const int offset = std::stoi(z.substr(0, 2)) * 3600 + std::stoi(z.substr(2, 2)) * 60;
    t -= sign * offset;  // local = UTC + offset
  }
  return t;
}

Result<Retry> parse_retry(const std::string& text) {
  if (text == "true") return Retry(true);
  if (text == "false") return Retry(false);
  static const std::regex kCount(R"(\d{1,6})");
  if (std::regex_match(text, kCount)) return Retry(std::stoi(text));
  return fail(Errc::invalid_argument,
              "--retry: expected a count, true or false, got '" + text + "'");
}

int run_enqueue(const EnqueueFlags& f) {
  // A loaded class brings its options: queue, retry, priority, expiry, uniqueness.
  for (const auto& path : f.requires_)
    if (auto st = load_job_library(path); !st) return fail_with(st.error());
  // The payload limits hold for args too (a worker would park the job), and
  // are checked before the text is parsed.
  if (auto st = payload::check_limits(f.args); !st) return fail_with("args: " + st.message());
  const std::string shown = f.args.size() > 200 ? f.args.substr(0, 197) + "..." : f.args;
  Json args = Json::parse(f.args, nullptr, /*allow_exceptions=*/false);
  if (args.is_discarded()) return fail_with("args are not valid JSON: " + shown);
  if (!args.is_array())
    return fail_with("args must be a JSON array, e.g. '[42, \"en\"]'; got " + shown);

  PushOptions o;
  if (!f.queue.empty()) o.queue = f.queue;
  if (!f.retry.empty()) {
    auto r = parse_retry(f.retry);
    if (!r) return fail_with(r.error());
    o.retry = *r;
  }
  if (!f.at.empty()) {
    auto t = parse_time(f.at);
    if (!t) return fail_with(t.error());
    // SystemTime counts nanoseconds in 64 bits: it ends in the year 2262.
    if (*t > std::chrono::duration<double>(SystemTime::max().time_since_epoch()).count())
      return fail_with("--at: " + f.at + " is too far in the future");
    o.at = SystemTime(
        std::chrono::duration_cast<SystemTime::duration>(std::chrono::duration<double>(*t)));
  } else if (f.in_seconds > 0) {
    o.at = std::chrono::system_clock::now() + std::chrono::duration_cast<SystemTime::duration>(
                                                  std::chrono::duration<double>(f.in_seconds));
  }

  auto config = resolve_config(f.store);
  if (!config) return fail_with(config.error());
  auto queues = open_queues(*config);
  if (!queues)
    return fail_with("cannot open store " + config->store + ": " + queues.error().message());
  Client client(std::move(queues).value());
  auto jid = client.enqueue(f.job_class, std::move(args), o);
  if (!jid) return fail_with("enqueue failed: " + jid.error().message());
  if (jid->empty()) {
    // Sidekiq's push returns nil here; a script tells by the empty stdout.
    std::cerr << "not enqueued: a job with the same unique key is pending\n";
    return kOk;
  }
  std::cout << *jid << "\n";
  return kOk;
}

}  // namespace

void add_enqueue_command(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<EnqueueFlags>();
  auto* cmd = app.add_subcommand("enqueue", "Enqueue one job and print its jid");
  cmd->add_option("class", f->job_class, "job class name, e.g. SendWelcomeEmail")->required();
  cmd->add_option("args", f->args, "arguments as a JSON array (default [])");
  cmd->add_option("-q,--queue", f->queue, "queue (default: the class's, else 'default')");
  auto* in = cmd->add_option("--in", f->in_seconds, "run after this many seconds")
                 ->check(CLI::NonNegativeNumber);
  cmd->add_option("--at", f->at, "run at this time: epoch seconds or ISO 8601")->excludes(in);
  cmd->add_option("--retry", f->retry, "retries: a count, true (server default) or false");
  cmd->add_option("-r,--require", f->requires_,
                  "job library to load (.so), so that the class's options apply; repeatable")
      ->allow_extra_args(false);
  add_store_flags(*cmd, f->store);
  cmd->callback([&ctx, f] { ctx.action = [f] { return run_enqueue(*f); }; });
}

}  // namespace errand::cli
