#include "errand/payload.h"

#include <gtest/gtest.h>

#include <set>

#include "core/invocation.h"

namespace errand {
namespace {

TEST(Payload, JidIs24LowercaseHexAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto jid = payload::new_jid();
    ASSERT_EQ(jid.size(), 24u);
    for (char c : jid) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << jid;
    seen.insert(jid);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Payload, TimestampsAcceptSecondsAndSidekiq8Milliseconds) {
  EXPECT_DOUBLE_EQ(*payload::timestamp(Json(1700000000.5)), 1700000000.5);
  EXPECT_DOUBLE_EQ(*payload::timestamp(Json(1700000000)), 1700000000.0);
  EXPECT_DOUBLE_EQ(*payload::timestamp(Json(1700000000123LL)), 1700000000.123);
  EXPECT_FALSE(payload::timestamp(Json("1700000000")).has_value());
  Json doc = {{"created_at", 1700000000123LL}};
  EXPECT_NEAR(*payload::timestamp(doc, "created_at"), 1700000000.123, 1e-6);
  EXPECT_FALSE(payload::timestamp(doc, "enqueued_at").has_value());
}

TEST(Payload, ValidateChecksWhatSidekiqChecks) {
  EXPECT_TRUE(payload::validate({{"class", "A"}, {"args", Json::array()}}).ok());
  EXPECT_EQ(payload::validate(Json::array()).code(), Errc::invalid_argument);
  EXPECT_EQ(payload::validate({{"args", Json::array()}}).code(), Errc::invalid_argument);
  EXPECT_EQ(payload::validate({{"class", ""}, {"args", Json::array()}}).code(),
            Errc::invalid_argument);
  auto st = payload::validate({{"class", "A"}, {"args", "x"}});
  EXPECT_NE(st.message().find("args"), std::string::npos);
  EXPECT_FALSE(payload::validate({{"class", "A"}, {"args", Json::array()}, {"queue", ""}}).ok());
  EXPECT_FALSE(payload::validate({{"class", "A"}, {"args", Json::array()}, {"at", "soon"}}).ok());
  EXPECT_FALSE(payload::validate({{"class", "A"}, {"args", Json::array()}, {"tags", "x"}}).ok());
}

TEST(Payload, ParseForWorkExplainsWhatIsWrong) {
  EXPECT_EQ(payload::parse_for_work("not json").code(), Errc::corrupt);
  EXPECT_EQ(payload::parse_for_work("[1,2]").code(), Errc::corrupt);
  auto r = payload::parse_for_work(R"({"class":"A","jid":"x"})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("args"), std::string::npos);
  auto ok = payload::parse_for_work(R"({"class":"A","args":[1],"jid":"x","extra":{"k":1}})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)["extra"]["k"], 1);
}

TEST(Payload, RetryFieldFollowsRubyTruthiness) {
  auto f = payload::retry_field({{"retry", 0}});
  EXPECT_TRUE(f.present);
  EXPECT_TRUE(f.enabled);  // 0 is truthy: straight to dead, not "no retry"
  EXPECT_EQ(f.count, 0);
  f = payload::retry_field({{"retry", false}});
  EXPECT_TRUE(f.present);
  EXPECT_FALSE(f.enabled);
  f = payload::retry_field({{"retry", 5.0}});
  EXPECT_TRUE(f.enabled);
  EXPECT_FALSE(f.count.has_value());  // a float is not an integer count
  f = payload::retry_field(Json::object());
  EXPECT_FALSE(f.present);
}

TEST(Payload, DisplayClassPrefersWrappedThenDisplayClass) {
  EXPECT_EQ(payload::display_class({{"class", "W"}, {"wrapped", "MyJob"}}), "MyJob");
  EXPECT_EQ(payload::display_class({{"class", "W"}, {"display_class", "D"}}), "D");
  EXPECT_EQ(payload::display_class({{"class", "W"}}), "W");
}

TEST(Payload, DumpNeverThrowsOnInvalidUtf8) {
  Json doc = {{"s", std::string("ok\xff\xfe")}};
  std::string out;
  EXPECT_NO_THROW(out = payload::dump(doc));
  EXPECT_NE(out.find("ok"), std::string::npos);
}

TEST(Invocation, PlainSidekiqJob) {
  Json doc = {{"class", "HardJob"}, {"args", {1, "two"}}, {"jid", "j"}};
  auto inv = resolve_invocation(doc);
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->job_class, "HardJob");
  EXPECT_EQ(inv->args, Json({1, "two"}));
  EXPECT_FALSE(inv->active_job);
}

TEST(Invocation, ActiveJobWrapperIsDecoded) {
  Json aj = {
      {"job_class", "ReportJob"},
      {"job_id", "0b1"},
      {"queue_name", "default"},
      {"arguments",
       {42,
        {{"user", {{"_aj_globalid", "gid://app/User/7"}}}, {"_aj_symbol_keys", {"user"}}},
        {{"_aj_serialized", "ActiveJob::Serializers::SymbolSerializer"}, {"value", "fast"}}}},
      {"executions", 0}};
  Json doc = {{"class", "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper"},
              {"wrapped", "ReportJob"},
              {"args", {aj}},
              {"jid", "j"}};
  auto inv = resolve_invocation(doc);
  ASSERT_TRUE(inv.ok());
  EXPECT_TRUE(inv->active_job);
  EXPECT_EQ(inv->job_class, "ReportJob");
  ASSERT_EQ(inv->args.size(), 3u);
  EXPECT_EQ(inv->args[0], 42);
  EXPECT_EQ(inv->args[1], Json({{"user", "gid://app/User/7"}}));
  EXPECT_EQ(inv->args[2], "fast");
}

TEST(Invocation, ActiveJobWithoutJobHashIsCorrupt) {
  Json doc = {{"class", "Sidekiq::ActiveJob::Wrapper"}, {"args", {1}}, {"jid", "j"}};
  EXPECT_EQ(resolve_invocation(doc).code(), Errc::corrupt);
}

}  // namespace
}  // namespace errand
