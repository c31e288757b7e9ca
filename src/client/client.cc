#include "errand/client.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "batch/join.h"
#include "errand/payload_limits.h"
#include "server/flow_control.h"

namespace errand {

namespace {

/// A 128-bit fingerprint (two FNV-1a variants) as hex: keeps lock keys short
/// whatever the arguments' size. Not cryptographic; collisions are 2^-64-rare.
std::string fingerprint(std::string_view s) {
  std::uint64_t a = 14695981039346656037ull, b = 1099511628211ull * 31 + 7;
  for (unsigned char c : s) {
    a = (a ^ c) * 1099511628211ull;
    b = (b ^ c) * 0x100000001b3ull + 0x9e3779b97f4a7c15ull;
  }
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return buf;
}

/// The payload limits (payload::Limits), checked before the client copies or
/// serializes user data (both recurse once per level): a worker would park a
/// job over them in the dead set, so it is refused here.
Status check_depth(const Json& doc, std::size_t extra_levels) {
  const std::size_t max_depth = payload::limits().max_depth;
  if (payload::depth(doc, max_depth) + extra_levels <= max_depth) return {};
  return fail(Errc::invalid_argument, "job args nest arrays/objects more than " +
                                          std::to_string(max_depth) +
                                          " levels deep, over the payload depth limit (max_depth)");
}

Status check_size(const std::string& text) {
  const std::size_t max_bytes = payload::limits().max_bytes;
  if (text.size() <= max_bytes) return {};
  return fail(Errc::invalid_argument, "job payload is " + std::to_string(text.size()) +
                                          " bytes, over the payload size limit (max_bytes) of " +
                                          std::to_string(max_bytes) + " bytes");
}

Json retry_json(const Retry& r) {
  if (!r.enabled()) return false;
  if (r.is_default()) return true;  // Sidekiq: always write retry explicitly
  return r.count;
}

}  // namespace

Client::Client(QueueMap queues, ClientOptions options)
    : queues_(std::make_shared<const QueueMap>(std::move(queues))), options_(std::move(options)) {}

Result<Client> Client::open(std::string_view url, ClientOptions options) {
  auto store = open_store(url);
  if (!store) return store.error();
  return Client(QueueMap(std::move(store).value()), std::move(options));
}

Client Client::within(pg_conn* conn) const {
  Client c = *this;
  c.txn_ = AppTransaction{AppTransaction::Kind::postgres, conn};
  return c;
}

Client Client::within(sqlite3* db) const {
  Client c = *this;
  c.txn_ = AppTransaction{AppTransaction::Kind::sqlite, db};
  return c;
}

Status Client::store_push(Store& store, std::span<const PushItem> batch) {
  Status st;
  if (batch_)
    st = batch::join_push(*batch_, store, txn_.has_value(), batch, to_epoch(now()));
  else if (txn_)
    return store.push_within(*txn_,
                             {.jobs = batch, .now = to_epoch(now())});  // not committed: no event
  else
    st = store.push({.jobs = batch, .now = to_epoch(now())});
  if (st && options_.publish_events) publish_enqueued(store, batch);
  return st;
}

SystemTime Client::now() const {
  return options_.clock ? options_.clock->now() : std::chrono::system_clock::now();
}

Json Client::build(const JobDescriptor* job, std::string_view job_class, Json args,
                   const PushOptions& o) const {
  Json item = Json::object();
  item["class"] = std::string(job_class);
  item["args"] = std::move(args);
  item["jid"] = payload::new_jid();
  item["queue"] = o.queue ? *o.queue : (job ? job->queue : std::string("default"));
  Retry retry = o.retry ? *o.retry : (job ? job->retry : Retry{});
  item["retry"] = retry_json(retry);
  if (job && !job->retry_queue.empty()) item["retry_queue"] = job->retry_queue;
  if (job && !job->dead) item["dead"] = false;
  int priority = o.priority ? *o.priority : (job ? job->priority : 0);
  if (priority != 0) item["priority"] = priority;
  const double created = to_epoch(now());
  item["created_at"] = created;
  if (job && job->expires_in > 0) {
    double start = (o.at && *o.at > now()) ? to_epoch(*o.at) : created;
    item["expires_at"] = start + job->expires_in;
  }
  if (job && job->unique != Unique::none) {
    const Json& a = item["args"];
    std::string basis = job->unique_key ? job->unique_key(a) : payload::dump(a);
    item["unique_key"] = "unique:" + std::string(job_class) + ":" + fingerprint(basis);
    item["unique_until"] = job->unique == Unique::until_executing ? "executing" : "executed";
    item["unique_for"] = job->unique_for;
  }
  if (o.extra.is_object())
    for (const auto& [k, v] : o.extra.items())
      if (k != "class" && k != "args" && k != "jid" && k != "queue") item[k] = v;
  if (batch_) item["bid"] = batch_->bid;
  return item;
}

Result<std::string> Client::push(const JobDescriptor& job, Json args, const PushOptions& o) {
  if (!args.is_array()) return fail(Errc::invalid_argument, "job args must be a JSON array");
  return push_one(&job, job.name, std::move(args), o);
}

Result<std::string> Client::push_one(const JobDescriptor* job, std::string_view job_class,
                                     Json args, const PushOptions& o) {
  if (auto st = check_depth(args, 1); !st) return st.error();
  Json item = build(job, job_class, std::move(args), o);
  double at = 0;
  if (o.at && *o.at > now()) at = to_epoch(*o.at);
  std::vector<Json> items;
  items.push_back(std::move(item));
  auto jids = push_items(std::move(items), at);
  if (!jids) return jids.error();
  return std::move(jids->front());
}

Result<std::vector<std::string>> Client::push_bulk(const JobDescriptor& job,
                                                   const std::vector<Json>& arg_lists,
                                                   const PushOptions& o) {
  for (const auto& args : arg_lists) {
    if (!args.is_array())
      return fail(Errc::invalid_argument, "push_bulk: every element must be a JSON array of args");
    if (auto st = check_depth(args, 1); !st) return st.error();
  }
  double at = 0;
  if (o.at && *o.at > now()) at = to_epoch(*o.at);
  std::vector<Json> items;
  items.reserve(arg_lists.size());
  if (job.unique != Unique::none) {
    // Each job's unique key comes from its own arguments.
    for (const auto& args : arg_lists) items.push_back(build(&job, job.name, args, o));
    return push_items(std::move(items), at);
  }
  Json templ = build(&job, job.name, Json::array(), o);
  if (options_.middleware.empty()) return push_bulk_plain(std::move(templ), arg_lists, at);
  for (const auto& args : arg_lists) {
    Json item = templ;
    item["args"] = args;
    item["jid"] = payload::new_jid();
    items.push_back(std::move(item));
  }
  return push_items(std::move(items), at);
}

Result<std::vector<std::string>> Client::push_bulk_plain(Json templ,
                                                         const std::vector<Json>& arg_lists,
                                                         double at) {
  // Every payload is the template plus its own args and jid: serialize the
  // template once and splice those two in as text, instead of copying and
  // serializing a JSON document per job (what push_items does, for
  // middleware and unique locks, which this path has none of).
  const std::string queue = templ["queue"].get<std::string>();
  if (queue.empty()) return fail(Errc::invalid_argument, "job queue must not be empty");
  Store* store = queues_->store_for(queue);
  if (!store)
    return fail(Errc::invalid_argument,
                "no store is defined for queue '" + queue + "' and there is no default store");
  int priority = 0;
  if (auto pr = templ.find("priority"); pr != templ.end() && pr->is_number_integer())
    priority = pr->get<int>();
  templ.erase("args");
  templ.erase("jid");
  if (at == 0) templ["enqueued_at"] = to_epoch(now());
  const std::string rest = payload::dump(templ);  // {"class":...}: never empty
  std::vector<std::string> jids;
  jids.reserve(arg_lists.size());
  std::vector<PushItem> batch;
  batch.reserve(arg_lists.size());
  for (const auto& args : arg_lists) {  // arrays: push_bulk checked them
    PushItem p;
    p.queue = queue;
    p.jid = payload::new_jid();
    p.priority = priority;
    p.at = at;
    std::string a = payload::dump(args);
    p.payload.reserve(rest.size() + a.size() + p.jid.size() + 20);
    p.payload.append("{\"args\":").append(a).append(",\"jid\":\"").append(p.jid).append("\",");
    p.payload.append(rest, 1, std::string::npos);
    if (auto st = check_size(p.payload); !st) return st.error();
    jids.push_back(p.jid);
    batch.push_back(std::move(p));
  }
  if (auto st = store_push(*store, batch); !st) return st.error();
  return jids;
}

Result<std::string> Client::enqueue(std::string_view job_class, Json args, const PushOptions& o) {
  if (!args.is_array()) return fail(Errc::invalid_argument, "job args must be a JSON array");
  if (job_class.empty()) return fail(Errc::invalid_argument, "job class must not be empty");
  auto known = Registry::global().find(job_class);
  return push_one(known.get(), job_class, std::move(args), o);
}

Result<std::string> Client::push(Json item) {
  if (auto st = check_depth(item, 0); !st) return st.error();
  if (auto st = payload::validate(item); !st) return st.error();
  if (!item.contains("jid")) item["jid"] = payload::new_jid();
  if (!item.contains("queue")) item["queue"] = "default";
  if (!item.contains("retry")) item["retry"] = true;
  if (!item.contains("created_at")) item["created_at"] = to_epoch(now());
  double at = 0;
  if (auto it = item.find("at"); it != item.end()) {
    // A raw push with `at` is always scheduled, even in the past (Sidekiq).
    at = payload::timestamp(*it).value_or(0);
    item.erase(it);
    if (at <= 0) at = to_epoch(now());
  }
  std::vector<Json> items;
  items.push_back(std::move(item));
  auto jids = push_items(std::move(items), at);
  if (!jids) return jids.error();
  return std::move(jids->front());
}

Result<std::vector<std::string>> Client::push_items(std::vector<Json> items, double at) {
  std::vector<std::string> jids;
  jids.reserve(items.size());
  struct HeldLock {
    Store* store;
    flow::UniqueLock lock;
  };
  std::vector<HeldLock> locks;  // unique locks taken by this call, released if the push fails
  // Within the application's transaction the locks were taken in it: its
  // rollback releases them.
  auto release_locks = [this](std::vector<HeldLock>& held) {
    if (txn_) return;
    for (auto& l : held) flow::release(*l.store, l.lock);
  };
  // Group by store, keeping order within each store.
  std::map<Store*, std::vector<PushItem>> batches;
  const double enqueued_at = to_epoch(now());
  for (auto& item : items) {
    if (batch_) item["bid"] = batch_->bid;
    std::string queue = item["queue"].get<std::string>();
    bool reached = run_client_chain(options_.middleware, item, queue, [] {});
    if (!reached) {
      jids.emplace_back();  // stopped by middleware: not enqueued
      continue;
    }
    // Middleware may have changed the queue.
    if (auto q = item.find("queue"); q != item.end() && q->is_string())
      queue = q->get<std::string>();
    if (queue.empty()) return fail(Errc::invalid_argument, "job queue must not be empty");
    Store* store = queues_->store_for(queue);
    if (!store)
      return fail(Errc::invalid_argument,
                  "no store is defined for queue '" + queue + "' and there is no default store");
    if (at == 0) item["enqueued_at"] = enqueued_at;
    if (auto uk = item.find("unique_key"); uk != item.end() && uk->is_string()) {
      // Unique jobs: the lock is the admission ticket; its holder is the jid.
      double ttl = item.value("unique_for", 3600.0);
      double until = std::max(at, enqueued_at) + ttl;
      const std::string& key = uk->get_ref<const std::string&>();
      const std::string& holder = item["jid"].get_ref<const std::string&>();
      auto got = txn_ ? store->lock_acquire_within(*txn_, key, holder, enqueued_at, until)
                      : flow::acquire_unique(*store, key, holder, enqueued_at, until);
      if (!got) {
        release_locks(locks);
        return fail(got.code(), "unique job lock: " + got.error().message());
      }
      if (!*got) {
        jids.emplace_back();  // a copy is already pending: not enqueued
        continue;
      }
      locks.push_back({store, {uk->get<std::string>(), item["jid"].get<std::string>()}});
    }
    PushItem p;
    p.queue = std::move(queue);
    p.jid = item["jid"].get<std::string>();
    if (auto pr = item.find("priority"); pr != item.end() && pr->is_number_integer())
      p.priority = pr->get<int>();
    p.payload = payload::dump(item);
    if (auto st = check_size(p.payload); !st) {
      release_locks(locks);
      return st.error();
    }
    p.at = at;
    jids.push_back(p.jid);
    batches[store].push_back(std::move(p));
  }
  for (auto& [store, batch] : batches) {
    if (auto st = store_push(*store, batch); !st) {
      release_locks(locks);
      return st.error();
    }
  }
  return jids;
}

}  // namespace errand
