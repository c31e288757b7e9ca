// Small builders shared by the conformance cases.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "errand/store.h"
#include "support/wall.h"

namespace errand::testing {

/// A Sidekiq-shaped payload with a known jid and queue.
inline std::string job_payload(const std::string& jid, const std::string& queue = "default",
                               const std::string& extra = "") {
  return R"({"class":"TestJob","args":[")" + jid + R"("],"jid":")" + jid + R"(","queue":")" +
         queue + R"(","retry":true,"created_at":1700000000.5,"enqueued_at":1700000000.5)" +
         (extra.empty() ? "" : "," + extra) + "}";
}

inline PushItem item(const std::string& jid, const std::string& queue = "default", double at = 0,
                     int priority = 0) {
  return PushItem{queue, jid, job_payload(jid, queue), at, priority};
}

inline void push_jobs(Store& store, const std::vector<PushItem>& items) {
  auto st = store.push({.jobs = items, .now = wall()});
  ASSERT_TRUE(st.ok()) << st.message();
}

inline std::vector<Fetched> fetch(Store& store, std::vector<std::string> queues,
                                  std::size_t max = 1, const std::string& owner = "host:1:owner",
                                  std::chrono::milliseconds wait = std::chrono::milliseconds(0)) {
  auto r = store.fetch({.queues = queues, .max = max, .wait = wait, .owner = owner, .now = wall()});
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message());
  return r.ok() ? std::move(r).value() : std::vector<Fetched>{};
}

/// The jids (payload "jid" fields) of fetched jobs, in order.
std::vector<std::string> jids(const std::vector<Fetched>& jobs);
std::vector<std::string> jids(const std::vector<std::string>& payloads);
std::vector<std::string> jids(const std::vector<SetEntry>& entries);

/// A heartbeat for `identity` at `beat`.
ProcessBeat beat_for(const std::string& identity, double beat, double ttl = 60);

}  // namespace errand::testing
