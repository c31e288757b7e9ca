// The worker's fast payload reader (src/core/envelope.cc) against the full
// parse: the same fields and arguments where it answers, and a refusal (so
// the full parse decides) wherever the payload needs more.
#include "core/envelope.h"

#include <gtest/gtest.h>

#include "errand/errand.h"

namespace errand {
namespace {

TEST(Envelope, ReadsThePlainFields) {
  const std::string text =
      R"({"class":"SendEmail","args":[42,"en"],"jid":"abc","queue":"mailers","retry":true,)"
      R"("created_at":1700000000.5,"enqueued_at":1700000001.25,"retry_count":2,"extra":{"x":[1]}})";
  auto env = read_envelope(text);
  ASSERT_TRUE(env.has_value());
  EXPECT_EQ(env->job_class, "SendEmail");
  EXPECT_EQ(env->jid, "abc");
  EXPECT_EQ(env->args, Json::parse(R"([42,"en"])"));
  EXPECT_EQ(env->retry_count, 2);
  EXPECT_DOUBLE_EQ(env->enqueued_at, 1700000001.25);
}

TEST(Envelope, ArgumentsEqualTheFullParse) {
  for (const char* args : {
           R"([])",
           R"([1,-2,0,9223372036854775807,-9223372036854775808,18446744073709551615])",
           R"([1.5,-0.25,1e300,2.5e-8])",
           R"([true,false,null])",
           R"(["", "a\"b\\c\n\t", "\u00e9\u4e2d\ud83d\ude00", "<script>"])",
           R"([{"a":1,"b":[{"c":null}],"":"empty key"},[[[]]],{}])",
       }) {
    const std::string text = std::string(R"({"class":"C","jid":"j","args":)") + args + "}";
    auto env = read_envelope(text);
    ASSERT_TRUE(env.has_value()) << args;
    const Json full = Json::parse(text);
    EXPECT_EQ(env->args, full["args"]) << args;
    EXPECT_EQ(env->args.dump(), full["args"].dump()) << args;  // integer vs float kinds too
  }
}

TEST(Envelope, DefaultsWhenOptionalFieldsAreAbsent) {
  auto env = read_envelope(R"({"class":"C","jid":"j","args":[]})");
  ASSERT_TRUE(env.has_value());
  EXPECT_EQ(env->retry_count, -1);
  EXPECT_EQ(env->enqueued_at, 0);
}

TEST(Envelope, LeavesEverythingElseToTheFullParse) {
  for (const char* text : {
           R"(not json)",
           R"([1,2])",
           R"({"class":"C","jid":"j","args":[1]} trailing)",
           R"({"class":"C","jid":"j","args":[1})",
           R"({"jid":"j","args":[]})",
           R"({"class":"","jid":"j","args":[]})",
           R"({"class":42,"jid":"j","args":[]})",
           R"({"class":"C","args":[]})",
           R"({"class":"C","jid":7,"args":[]})",
           R"({"class":"C","jid":"j"})",
           R"({"class":"C","jid":"j","args":{"a":1}})",
           R"({"class":"C","jid":"j","args":[],"retry_count":"2"})",
           R"({"class":"C","jid":"j","args":[],"retry_count":1.5})",
           R"({"class":"C","jid":"j","args":[],"enqueued_at":1700000000000})",
           R"({"class":"C","jid":"j","args":[],"enqueued_at":"yesterday"})",
           R"({"class":"C","jid":"j","args":[],"expires_at":1700000000.0})",
           R"({"class":"C","jid":"j","args":[],"unique_key":"k","unique_until":"executed"})",
           R"({"class":"C","jid":"j","args":[],"display_class":"D"})",
           R"({"class":"ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper","wrapped":"W",)"
           R"("jid":"j","args":[{"job_class":"W","arguments":[]}]})",
           R"({"class":"Sidekiq::ActiveJob::Wrapper","jid":"j","args":[{}]})",
       }) {
    EXPECT_FALSE(read_envelope(text).has_value()) << text;
  }
}

TEST(Envelope, JobContextParsesThePayloadOnlyWhenAsked) {
  const std::string text = R"({"class":"C","jid":"j","args":[],"created_at":12.5,"tags":["a"]})";
  JobContext ctx;
  ctx.set_payload(text);
  EXPECT_EQ(ctx.payload().at("tags"), Json::array({"a"}));
  EXPECT_EQ(ctx.payload().at("created_at"), 12.5);
  JobContext bad;
  const std::string garbage = "[not an object]";
  bad.set_payload(garbage);
  EXPECT_TRUE(bad.payload().is_object());
  EXPECT_TRUE(bad.payload().empty());
  Json doc = {{"k", 1}};
  bad.set_payload(&doc);
  EXPECT_EQ(bad.payload().at("k"), 1);
}

}  // namespace
}  // namespace errand
