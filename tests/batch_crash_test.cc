// A batch's callback runs exactly once across processes and through a
// SIGKILL: three `errand worker` processes share one SQLite store and drain
// a batch of RecordRun jobs; one is killed mid-run (its claims come back
// through the rescuer and run again). Every job runs at least once, the
// batch succeeds, and its success callback (RecordRun of a marker number)
// appears once in the record.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <map>
#include <sstream>

#include "errand/errand.h"
#include "support/process.h"
#include "support/redis_server.h"

namespace errand::testing {
namespace {

constexpr std::int64_t kMarker = 1'000'000;

std::map<std::int64_t, int> records(const std::filesystem::path& file) {
  std::map<std::int64_t, int> out;
  std::istringstream in(read_file(file));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) ++out[std::stoll(line)];
  return out;
}

/// The scenario on the store at `url` (see the file comment).
void callback_once_through_a_sigkill(const TempDir& dir, const std::string& url) {
  constexpr int kJobs = 1500;
  const auto record = dir / "record.txt";
  auto client = Client::open(url);
  ASSERT_TRUE(client.ok()) << client.error().message();
  JobDescriptor run;  // the class lives in the examples library
  run.name = "RecordRun";
  Batch batch(*client, "crash");
  batch.callback(BatchEvent::success, "RecordRun", Json::array({kMarker}));
  ASSERT_TRUE(batch.jobs([&](Client& c) {
    std::vector<Json> args;
    for (int n = 0; n < kJobs; ++n) args.push_back(Json::array({n}));
    ASSERT_TRUE(c.push_bulk(run, args, {}).ok());
  }));

  const std::vector<std::string> flags = {
      "-q", "default",           "-c", "4", "--heartbeat-interval", "0.5", "--process-ttl",
      "2",  "--rescue-interval", "1"};
  const std::map<std::string, std::string> env = {{"ERRAND_RECORD_FILE", record.string()}};
  Worker a(dir, url, flags, env);
  Worker b(dir, url, flags, env);
  {
    Worker victim(dir, url, flags, env);
    ASSERT_TRUE(eventually(60s, [&] { return count_lines(record) >= 200; })) << victim.output();
    victim.process->signal(SIGKILL);
    auto st = victim.process->wait_for(10s);
    ASSERT_TRUE(st && WIFSIGNALED(*st));
  }
  ASSERT_LT(records(record).size(), static_cast<std::size_t>(kJobs))
      << "everything ran before the kill; the test proves nothing";
  std::map<std::int64_t, int> seen;
  const bool done = eventually(120s, [&] {
    seen = records(record);
    auto st = client->batch_status(batch.bid());
    return seen.count(kMarker) && st.ok() && st->success;
  });
  // Another firing (a second callback) would land within this time.
  std::this_thread::sleep_for(2s);
  seen = records(record);
  EXPECT_EQ(a.stop(), 0) << a.output();
  EXPECT_EQ(b.stop(), 0) << b.output();
  ASSERT_TRUE(done) << seen.size() << " distinct records";
  for (int n = 0; n < kJobs; ++n) EXPECT_GE(seen[n], 1) << "job " << n << " never ran";
  EXPECT_EQ(seen[kMarker], 1) << "the success callback must run exactly once";
  auto st = client->batch_status(batch.bid());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->total, static_cast<std::size_t>(kJobs));
  EXPECT_EQ(st->pending, 0u);
}

TEST(BatchCrash, TheCallbackRunsOnceAcrossWorkersAndASigkillOnSqlite) {
  TempDir dir;
  callback_once_through_a_sigkill(dir, sqlite_url(dir));
}

TEST(BatchCrash, TheCallbackRunsOnceAcrossWorkersAndASigkillOnRedis) {
  if (!RedisServer::installed()) GTEST_SKIP() << "redis-server missing";
  RedisServer redis;
  std::string why;
  ASSERT_TRUE(redis.start(&why)) << why;
  TempDir dir;
  callback_once_through_a_sigkill(dir, redis.url());
}

}  // namespace
}  // namespace errand::testing
