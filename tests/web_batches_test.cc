// The dashboard's batches: /batches lists them newest first with their
// progress, /batches/BID shows one with its failed members and a Cancel
// button (CSRF-guarded like every action), /api/batches[/BID] are the JSON
// twins.
#include <gtest/gtest.h>
#include <httplib.h>

#include "errand/errand.h"
#include "web/web_server.h"

namespace errand {
namespace {

class WebBatchesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;
    store_ = open_store("memory://web-batches-" + std::to_string(++counter)).value();
    admin_ = std::make_shared<Admin>(store_);
    web::WebOptions o;
    o.bind = "127.0.0.1";
    o.port = 0;
    web_ = std::make_unique<web::WebServer>(admin_, o);
    ASSERT_TRUE(web_->start().ok());
  }
  httplib::Client http() {
    httplib::Client c("127.0.0.1", web_->port());
    c.set_read_timeout(10, 0);
    return c;
  }
  /// A batch of `n` jobs of an unknown class (nothing runs them here).
  std::string batch_of(int n, const std::string& description) {
    Client client{QueueMap(store_)};
    Batch b(client, description);
    EXPECT_TRUE(b.jobs([&](Client& c) {
      for (int i = 0; i < n; ++i) EXPECT_TRUE(c.enqueue("Elsewhere", Json::array({i})).ok());
    }));
    return b.bid();
  }

  std::shared_ptr<Store> store_;
  std::shared_ptr<Admin> admin_;
  std::unique_ptr<web::WebServer> web_;
};

TEST_F(WebBatchesTest, TheListAndThePageShowABatchAndItsProgress) {
  const auto bid = batch_of(3, "nightly <import>");
  auto c = http();
  auto list = c.Get("/batches");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);
  EXPECT_NE(list->body.find("href=\"/batches/" + bid + "\""), std::string::npos);
  EXPECT_NE(list->body.find("nightly &lt;import&gt;"), std::string::npos) << "escaped";
  EXPECT_NE(list->body.find("<progress max=\"3\" value=\"0\""), std::string::npos);
  auto page = c.Get("/batches/" + bid);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("action=\"/api/batches/" + bid + "/cancel\""), std::string::npos);
  auto json = c.Get("/api/batches/" + bid);
  ASSERT_TRUE(json);
  auto j = Json::parse(json->body);
  EXPECT_EQ(j["total"], 3);
  EXPECT_EQ(j["pending"], 3);
  auto all = c.Get("/api/batches");
  ASSERT_TRUE(all);
  EXPECT_EQ(Json::parse(all->body).size(), 1u);
  auto missing = c.Get("/batches/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(WebBatchesTest, CancelNeedsTheCsrfTokenThenCancelsTheBatch) {
  const auto bid = batch_of(2, "to cancel");
  auto c = http();
  auto refused = c.Post("/api/batches/" + bid + "/cancel", "back=%2Fbatches",
                        "application/x-www-form-urlencoded");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  Client client{QueueMap(store_)};
  EXPECT_FALSE(client.batch_status(bid)->cancelled) << "a refused post changed nothing";
  auto csrf = c.Get("/api/csrf");
  ASSERT_TRUE(csrf);
  std::string cookie = csrf->get_header_value("Set-Cookie");
  cookie = cookie.substr(0, cookie.find(';'));
  const std::string token = Json::parse(csrf->body)["token"];
  auto done = c.Post("/api/batches/" + bid + "/cancel", httplib::Headers{{"Cookie", cookie}},
                     "_csrf=" + token + "&back=%2Fbatches", "application/x-www-form-urlencoded");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 303);
  auto st = client.batch_status(bid);
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->cancelled);
  EXPECT_EQ(st->dead, 2u) << "both waiting jobs were removed";
  auto waiting = store_->queue_jobs("default", 0, 10);
  ASSERT_TRUE(waiting.ok());
  EXPECT_TRUE(waiting->empty());
}

}  // namespace
}  // namespace errand
