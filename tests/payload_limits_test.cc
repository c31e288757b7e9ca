// The payload limits (payload::Limits): nesting depth and size are checked
// before anything walks a document, by every reader (pre-scan, full parse,
// envelope, ActiveJob unwrapping, client), and the refusals name the limit.
#include "errand/payload_limits.h"

#include <gtest/gtest.h>

#include <string>

#include "core/envelope.h"
#include "core/invocation.h"
#include "errand/errand.h"
#include "support/wall.h"

using errand::testing::wall;

namespace errand {
namespace {

/// `n` arrays nested in one another: "[[[...]]]".
std::string nested(std::size_t n) { return std::string(n, '[') + std::string(n, ']'); }

/// A payload whose args hold `inner`; its depth is inner's + 1.
std::string job_with_args(const std::string& inner) {
  return R"({"class":"C","args":[)" + inner + R"(],"jid":"deepjid"})";
}

/// Restores the default limits after a test that changes them.
struct LimitsGuard {
  ~LimitsGuard() { payload::set_limits({}); }
};

TEST(PayloadLimits, DefaultsAre256LevelsAnd16MiB) {
  EXPECT_EQ(payload::limits().max_depth, 256u);
  EXPECT_EQ(payload::limits().max_bytes, 16u * 1024 * 1024);
}

TEST(PayloadLimits, PreScanCountsBracketsOutsideStringsOnly) {
  const payload::Limits l{.max_depth = 3, .max_bytes = 1u << 20};
  EXPECT_TRUE(payload::check_limits(nested(3), l).ok());
  auto st = payload::check_limits(nested(4), l);
  EXPECT_EQ(st.code(), Errc::corrupt);
  EXPECT_NE(st.message().find("max_depth"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("3 levels"), std::string::npos) << st.message();
  // Brackets inside strings, escaped quotes included, are text.
  EXPECT_TRUE(payload::check_limits(R"([["[[[[[[", "\"[[[[[{{{{"]])", l).ok());
  EXPECT_TRUE(payload::check_limits(R"({"a\\":[{"b":"\\\"[[[["}]})", l).ok());
  EXPECT_FALSE(payload::check_limits(R"({"a\\":[{"b":[[]]}]})", l).ok());
  // Unbalanced text is bounded too (the parse reports it as invalid).
  EXPECT_FALSE(payload::check_limits(std::string(100000, '['), l).ok());
  EXPECT_TRUE(payload::check_limits(std::string(100000, ']'), l).ok());
}

TEST(PayloadLimits, PreScanRefusesOversizedTextNamingTheLimit) {
  const payload::Limits l{.max_depth = 10, .max_bytes = 16};
  EXPECT_TRUE(payload::check_limits(std::string(16, ' '), l).ok());
  auto st = payload::check_limits(std::string(17, ' '), l);
  EXPECT_EQ(st.code(), Errc::corrupt);
  EXPECT_NE(st.message().find("max_bytes"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("17 bytes"), std::string::npos) << st.message();
}

TEST(PayloadLimits, FullParseRefusesAHundredThousandLevels) {
  auto r = payload::parse_for_work(job_with_args(nested(100000)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::corrupt);
  EXPECT_NE(r.error().message().find("max_depth"), std::string::npos);
  // Objects as much as arrays.
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += R"({"a":)";
  objects += "1" + std::string(100000, '}');
  EXPECT_FALSE(payload::parse(objects).ok());
}

TEST(PayloadLimits, TheLimitItselfIsAccepted) {
  // The payload object is level 1, args level 2: 254 more levels make 256.
  EXPECT_TRUE(payload::parse_for_work(job_with_args(nested(254))).ok());
  EXPECT_FALSE(payload::parse_for_work(job_with_args(nested(255))).ok());
}

TEST(PayloadLimits, EnvelopeAgreesWithTheFullParseAtTheBoundary) {
  auto at_limit = read_envelope(job_with_args(nested(254)));
  ASSERT_TRUE(at_limit.has_value());
  EXPECT_EQ(payload::depth(at_limit->args), 255u);
  EXPECT_FALSE(read_envelope(job_with_args(nested(255))).has_value());
  EXPECT_FALSE(read_envelope(job_with_args(nested(100000))).has_value());
}

TEST(PayloadLimits, SetLimitsAppliesToEveryReader) {
  LimitsGuard guard;
  payload::set_limits({.max_depth = 5, .max_bytes = 200});
  EXPECT_TRUE(read_envelope(job_with_args(nested(3))).has_value());
  EXPECT_FALSE(read_envelope(job_with_args(nested(4))).has_value());
  EXPECT_TRUE(payload::parse_for_work(job_with_args(nested(3))).ok());
  EXPECT_FALSE(payload::parse_for_work(job_with_args(nested(4))).ok());
  const std::string big = R"({"class":"C","jid":"j","args":[")" + std::string(200, 'x') + "\"]}";
  EXPECT_FALSE(read_envelope(big).has_value());
  auto r = payload::parse_for_work(big);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("max_bytes"), std::string::npos);
  // Back to a wider limit: the thread's envelope parser follows.
  payload::set_limits({.max_depth = 300, .max_bytes = 0});
  EXPECT_EQ(payload::limits().max_bytes, payload::Limits{}.max_bytes) << "0 keeps the default";
  EXPECT_TRUE(read_envelope(job_with_args(nested(290))).has_value());
}

TEST(PayloadLimits, DepthIsClampedToWhatAStackSurvives) {
  LimitsGuard guard;
  payload::set_limits({.max_depth = 1'000'000, .max_bytes = 0});
  EXPECT_EQ(payload::limits().max_depth, payload::kMaxDepthCeiling);
}

TEST(PayloadLimits, DepthOfADocumentIsFoundWithoutRecursion) {
  EXPECT_EQ(payload::depth(Json(1)), 0u);
  EXPECT_EQ(payload::depth(Json::array()), 1u);
  EXPECT_EQ(payload::depth(Json::parse(R"({"a":[1,{"b":[]}],"c":2})")), 4u);
  Json deep = Json::array();
  for (int i = 0; i < 100000; ++i) {
    Json outer = Json::array();
    outer.push_back(std::move(deep));
    deep = std::move(outer);
  }
  EXPECT_EQ(payload::depth(deep), 100001u);
  EXPECT_EQ(payload::depth(deep, 10), 11u) << "stops counting past stop_after";
}

TEST(PayloadLimits, JidIsReadFromDocumentsOverTheLimits) {
  EXPECT_EQ(payload::jid_of(job_with_args(nested(100000))), "deepjid");
  EXPECT_EQ(payload::jid_of(R"({"args":[{"jid":"inner"}],"jid":"outer"})"), "outer");
  EXPECT_EQ(payload::jid_of(R"({"jid":"early","args":[[[)"), "early") << "before the break";
  EXPECT_EQ(payload::jid_of(R"({"jid":42})"), "");
  EXPECT_EQ(payload::jid_of(R"(["jid","x"])"), "");
  EXPECT_EQ(payload::jid_of("not json"), "");
}

TEST(PayloadLimits, ActiveJobUnwrappingRefusesDeepArguments) {
  // Built in memory (a document from payload::parse is never this deep).
  Json deep = Json::array();
  for (int i = 0; i < 300; ++i) {
    Json outer = Json::array();
    outer.push_back(std::move(deep));
    deep = std::move(outer);
  }
  Json aj = {{"job_class", "ReportJob"}, {"arguments", Json::array()}};
  aj["arguments"].push_back(std::move(deep));
  Json doc = {{"class", "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper"},
              {"args", Json::array()},
              {"jid", "j"}};
  doc["args"].push_back(std::move(aj));
  auto inv = resolve_invocation(doc);
  ASSERT_FALSE(inv.ok());
  EXPECT_NE(inv.error().message().find("max_depth"), std::string::npos);
}

TEST(PayloadLimits, ClientRefusesArgsOverTheLimits) {
  auto client = Client::open("memory://payload-limits");
  ASSERT_TRUE(client.ok()) << client.error().message();
  // args are level 2 of the payload: args 255 deep make 256 levels, which fit.
  ASSERT_TRUE(client->enqueue("C", Json::parse(nested(255))).ok());
  const Json deep = Json::parse(nested(255));
  auto r = client->enqueue("C", Json::array({deep}));  // 257 levels
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::invalid_argument);
  EXPECT_NE(r.error().message().find("max_depth"), std::string::npos);
  JobDescriptor job;
  job.name = "C";
  auto bulk = client->push_bulk(job, std::vector<Json>{Json::array({1}), Json::array({deep})}, {});
  EXPECT_FALSE(bulk.ok());
  auto raw = client->push(Json{{"class", "C"}, {"args", Json::array({deep})}});
  EXPECT_FALSE(raw.ok());

  const std::string big(payload::limits().max_bytes, 'x');
  auto s = client->enqueue("C", Json::array({big}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("max_bytes"), std::string::npos);
  EXPECT_FALSE(client->push_bulk(job, std::vector<Json>{Json::array({big})}, {}).ok())
      << "the spliced path too";
}

TEST(PayloadLimits, PromotingADeepScheduledPayloadParksIt) {
  // The poller edits due payloads (enqueued_at): one over the limits must not
  // be built, let alone dumped.
  auto store = open_store("memory://payload-limits-promote");
  ASSERT_TRUE(store.ok());
  PushItem item;
  item.queue = "default";
  item.jid = "deepjid";
  item.payload = job_with_args(nested(100000));
  item.at = 1000;
  ASSERT_TRUE((*store)->push({.jobs = std::vector<PushItem>{item}, .now = wall()}).ok());
  ASSERT_EQ(*(*store)->promote_due({.now = 2000, .limit = 10}), 0u);
  auto dead = (*store)->set_range(SetKind::dead, 0, 10);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(dead->at(0).payload, item.payload) << "kept whole";
}

}  // namespace
}  // namespace errand
