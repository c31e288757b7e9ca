#include "errand/job.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace errand {
namespace {

struct Point {
  int x = 0;
  int y = 0;
};
void to_json(Json& j, const Point& p) { j = Json{{"x", p.x}, {"y", p.y}}; }
void from_json(const Json& j, Point& p) {
  j.at("x").get_to(p.x);
  j.at("y").get_to(p.y);
}

struct Seen {
  static inline std::vector<std::string> calls;
};

struct TypedJob {
  static constexpr JobOptions options{.queue = "typed", .retry = 3, .priority = 2};
  void perform(std::int64_t id, double ratio, bool flag, std::string name, std::vector<int> list,
               std::map<std::string, int> counts, Json extra, Point p) {
    Seen::calls.push_back(std::to_string(id) + "|" + std::to_string(ratio) + "|" +
                          (flag ? "t" : "f") + "|" + name + "|" + std::to_string(list.size()) +
                          "|" + std::to_string(counts["a"]) + "|" + extra.dump() + "|" +
                          std::to_string(p.x + p.y));
  }
};

struct NoArgs {
  void perform() { Seen::calls.push_back("noargs"); }
};

struct Transient : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct Fatal : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct Gone : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct PickyJob {
  static constexpr JobOptions options{.retry = false};
  using retry_on = exceptions<Transient>;
  using discard_on = exceptions<Gone>;
  static std::chrono::seconds retry_in(int count) { return std::chrono::seconds(7 * (count + 1)); }
  void perform(int) {}
};

TEST(Job, OptionsAreCopiedIntoTheDescriptor) {
  auto d = describe_job<TypedJob>("TypedJob");
  EXPECT_EQ(d.name, "TypedJob");
  EXPECT_EQ(d.queue, "typed");
  EXPECT_EQ(d.retry.count, 3);
  EXPECT_EQ(d.priority, 2);
  auto n = describe_job<NoArgs>("NoArgs");
  EXPECT_EQ(n.queue, "default");
  EXPECT_TRUE(n.retry.is_default());
  EXPECT_FALSE(n.retry_in);
  auto p = describe_job<PickyJob>("PickyJob");
  EXPECT_FALSE(p.retry.enabled());
  ASSERT_TRUE(p.retry_in);
  EXPECT_EQ(p.retry_in(2)->count(), 21);
}

TEST(Job, RetryReadsLikeSidekiq) {
  EXPECT_TRUE(Retry().is_default());
  EXPECT_FALSE(Retry(false).enabled());
  EXPECT_TRUE(Retry(true).is_default());
  EXPECT_EQ(Retry(0).count, 0);
  EXPECT_EQ(Retry(5).count, 5);
}

TEST(Job, TypedArgumentsAreConverted) {
  Seen::calls.clear();
  auto d = describe_job<TypedJob>("TypedJob");
  Json args = {7, 0.5, true, "bob", {1, 2, 3}, {{"a", 4}}, {{"k", "v"}}, {{"x", 1}, {"y", 2}}};
  d.perform(args);
  ASSERT_EQ(Seen::calls.size(), 1u);
  EXPECT_EQ(Seen::calls[0], "7|0.500000|t|bob|3|4|{\"k\":\"v\"}|3");
  // An integer is a fine double.
  Json int_ratio = {
      7, 2, true, "bob", Json::array(), Json::object(), nullptr, {{"x", 0}, {"y", 0}}};
  EXPECT_NO_THROW(d.perform(int_ratio));
}

TEST(Job, WrongArgumentsThrowArgumentErrorNamingTheProblem) {
  auto d = describe_job<TypedJob>("TypedJob");
  try {
    d.perform(Json{1, 2});
    FAIL() << "expected ArgumentError";
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("takes 8 arguments, got 2"), std::string::npos)
        << e.what();
  }
  try {
    d.perform(Json{"seven", 0.5, true, "bob", {1}, {{"a", 1}}, nullptr, {{"x", 1}, {"y", 2}}});
    FAIL() << "expected ArgumentError";
  } catch (const ArgumentError& e) {
    EXPECT_NE(std::string(e.what()).find("argument 1 must be an integer, got string"),
              std::string::npos)
        << e.what();
  }
  // A float where an integer is expected is refused, not truncated.
  EXPECT_THROW(d.perform(Json{1.5, 0.5, true, "b", {1}, {{"a", 1}}, nullptr, {{"x", 1}, {"y", 2}}}),
               ArgumentError);
  // A user type that does not convert.
  EXPECT_THROW(d.perform(Json{1, 0.5, true, "b", {1}, {{"a", 1}}, nullptr, "nope"}), ArgumentError);
  // Not an array at all.
  EXPECT_THROW(d.perform(Json{{"a", 1}}), ArgumentError);
  // Out of range for int.
  auto p = describe_job<PickyJob>("PickyJob");
  EXPECT_THROW(p.perform(Json{std::int64_t{1} << 40}), ArgumentError);
}

TEST(Job, ClassifyFollowsRetryOnAndDiscardOn) {
  auto d = describe_job<PickyJob>("PickyJob");
  auto as_ptr = [](auto e) { return std::make_exception_ptr(e); };
  EXPECT_EQ(d.classify(as_ptr(Transient("t"))), ErrorAction::retry);
  EXPECT_EQ(d.classify(as_ptr(Gone("g"))), ErrorAction::discard);
  EXPECT_EQ(d.classify(as_ptr(Fatal("f"))), ErrorAction::dead);
  auto n = describe_job<NoArgs>("NoArgs");
  EXPECT_EQ(n.classify(as_ptr(Fatal("f"))), ErrorAction::retry);
}

TEST(Job, MakeArgsConvertsThroughParameterTypes) {
  Json a = make_args<TypedJob>(1, 2.5f, false, "x", std::vector<int>{1},
                               std::map<std::string, int>{}, Json(nullptr), Point{1, 2});
  EXPECT_EQ(a.size(), 8u);
  EXPECT_TRUE(a[0].is_number_integer());
  EXPECT_TRUE(a[3].is_string());
  EXPECT_EQ(a[7]["y"], 2);
  EXPECT_EQ(make_args<NoArgs>(), Json::array());
}

TEST(Job, RegistryFindsByNameAndType) {
  Registry r;
  r.add(describe_job<NoArgs>("Billing::NoArgs"));
  ASSERT_NE(r.find("Billing::NoArgs"), nullptr);
  EXPECT_EQ(r.find("Nope"), nullptr);
  EXPECT_EQ(r.name_of(typeid(NoArgs)), "Billing::NoArgs");
  EXPECT_EQ(r.name_of(typeid(TypedJob)), "");
}

TEST(Job, CurrentJobOutsidePerformThrows) { EXPECT_THROW(current_job(), std::logic_error); }

}  // namespace
}  // namespace errand
