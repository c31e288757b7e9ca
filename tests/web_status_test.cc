// The dashboard's job status page (/status/JID), its JSON twin and the
// Cancel button: read through Admin, the cancel guarded by the CSRF token
// like every other action.
#include <gtest/gtest.h>
#include <httplib.h>

#include <ctime>

#include "errand/errand.h"
#include "support/wall.h"
#include "web/html.h"
#include "web/web_server.h"

using errand::testing::wall;

namespace errand {
namespace {

class WebStatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    store_ = open_store("memory://web-status-" + std::to_string(++counter)).value();
    admin_ = std::make_shared<Admin>(store_);
    web::WebOptions o;
    o.bind = "127.0.0.1";
    o.port = 0;
    web_ = std::make_unique<web::WebServer>(admin_, o);
    ASSERT_TRUE(web_->start().ok());
  }

  httplib::Client client() {
    httplib::Client c("127.0.0.1", web_->port());
    c.set_read_timeout(10, 0);
    return c;
  }

  std::string push(const std::string& jid) {
    PushItem item{"default", jid,
                  R"({"class":"X","args":[],"jid":")" + jid + R"(","queue":"default"})"};
    EXPECT_TRUE(store_->push({.jobs = std::vector<PushItem>{item}, .now = wall()}).ok());
    return jid;
  }

  JobState state_of(const std::string& jid) { return store_->job_status(jid, 0).value().state; }

  std::shared_ptr<Store> store_;
  std::shared_ptr<Admin> admin_;
  std::unique_ptr<web::WebServer> web_;
};

TEST_F(WebStatusTest, APageShowsAWaitingJobWithACancelButton) {
  push("waiting1");
  auto c = client();
  auto page = c.Get("/status/waiting1");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("queued"), std::string::npos);
  EXPECT_NE(page->body.find("action=\"/api/status/waiting1/cancel\""), std::string::npos);
  auto json = c.Get("/api/status/waiting1");
  ASSERT_TRUE(json);
  EXPECT_EQ(Json::parse(json->body)["state"], "queued");
  auto unknown = c.Get("/status?jid=nobody");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_NE(unknown->body.find("unknown"), std::string::npos);
}

TEST_F(WebStatusTest, ARunningJobShowsItsProgressOnItsPageAndTheBusyPage) {
  push("resizing");
  auto claimed = store_->fetch({.queues = std::vector<std::string>{"default"},
                                .max = 1,
                                .wait = std::chrono::milliseconds(0),
                                .owner = "host:1:web",
                                .now = wall()});
  ASSERT_TRUE(claimed.ok() && claimed->size() == 1u);
  ProcessBeat beat;
  beat.identity = "host:1:web";
  beat.info = Json{{"hostname", "host"}, {"concurrency", 1}};
  beat.beat = static_cast<double>(std::time(nullptr));
  beat.busy = 1;
  beat.work.push_back(
      WorkRecord{"host:1:web", "tid1", "default", (*claimed)[0].payload, beat.beat});
  ASSERT_TRUE(store_->heartbeat(beat).ok());
  ProgressUpdate u{"resizing", 0.42, "resized <42> of 100", beat.beat, 600};
  ASSERT_TRUE(store_->record_progress(std::span<const ProgressUpdate>(&u, 1)).ok());
  auto c = client();
  auto page = c.Get("/status/resizing");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("<progress max=\"100\" value=\"42\">"), std::string::npos);
  EXPECT_NE(page->body.find("42% \u00b7 resized &lt;42&gt; of 100"), std::string::npos)
      << "escaped";
  auto json = Json::parse(c.Get("/api/status/resizing")->body);
  EXPECT_EQ(json["progress"], 0.42);
  EXPECT_EQ(json["progress_message"], "resized <42> of 100");
  auto busy = c.Get("/busy");
  ASSERT_TRUE(busy);
  EXPECT_NE(busy->body.find("data-progress-jid=\"resizing\""), std::string::npos) << busy->body;
  EXPECT_NE(busy->body.find("value=\"42\""), std::string::npos);
}

TEST_F(WebStatusTest, CancelNeedsTheCsrfTokenThenCancels) {
  push("victim");
  auto c = client();
  auto refused = c.Post("/api/status/victim/cancel", "back=%2Fstatus%2Fvictim",
                        "application/x-www-form-urlencoded");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  EXPECT_EQ(state_of("victim"), JobState::queued) << "a refused post changed nothing";

  auto csrf = c.Get("/api/csrf");
  ASSERT_TRUE(csrf);
  std::string cookie = csrf->get_header_value("Set-Cookie");
  cookie = cookie.substr(0, cookie.find(';'));
  const std::string token = Json::parse(csrf->body)["token"];
  auto done =
      c.Post("/api/status/victim/cancel", httplib::Headers{{"Cookie", cookie}},
             "_csrf=" + token + "&back=%2Fstatus%2Fvictim", "application/x-www-form-urlencoded");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 303);
  EXPECT_EQ(done->get_header_value("Location"), "/status/victim?done=cancel&n=1");
  EXPECT_EQ(state_of("victim"), JobState::cancelled);
  auto page = c.Get("/status/victim");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->body.find("/cancel\""), std::string::npos) << "no button once it ended";
}

TEST_F(WebStatusTest, AResultIsShownEscaped) {
  StatusUpdate u;
  u.jid = "done1";
  u.state = JobState::succeeded;
  u.result = R"({"html":"<script>alert(1)</script>"})";
  u.now = 1e10;  // far ahead: the record has not expired at any test's now
  ASSERT_TRUE(store_->record_status(u).ok());
  auto page = client().Get("/status/done1");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body.find("<script>alert(1)"), std::string::npos);
  EXPECT_NE(page->body.find("&lt;script&gt;"), std::string::npos);
  auto json = Json::parse(client().Get("/api/status/done1")->body);
  EXPECT_EQ(json["result"]["html"], "<script>alert(1)</script>");
}

}  // namespace
}  // namespace errand
