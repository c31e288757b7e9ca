// A real redis-server for tests, on a free loopback port, plus a raw hiredis
// client to inspect exactly what the store wrote.
//
// Header-only on purpose: CMakeLists.txt compiles tests/*.cc and
// tests/store_conformance/*.cc, not tests/support/*.cc.
//
// Thread safety: a RedisServer is driven from one test thread; RawRedis is one
// connection, for one thread.
#pragma once

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace errand::testing {

/// One reply from RawRedis, flattened for assertions.
struct RawReply {
  int type = REDIS_REPLY_NIL;
  std::string str;                 ///< string, status or error text
  long long integer = 0;           ///< integer replies
  std::vector<RawReply> elements;  ///< array replies
  bool nil() const { return type == REDIS_REPLY_NIL; }
  bool error() const { return type == REDIS_REPLY_ERROR; }
  std::vector<std::string> strings() const {
    std::vector<std::string> out;
    for (const auto& e : elements) out.push_back(e.str);
    return out;
  }
};

/// A plain hiredis connection, for looking at keys behind the store's back.
class RawRedis {
 public:
  RawRedis(int port, const std::string& password = "", int db = 0) {
    timeval tv{2, 0};
    ctx_ = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (ctx_ != nullptr && ctx_->err == 0) {
      redisSetTimeout(ctx_, tv);
      if (!password.empty()) run({"AUTH", password});
      if (db != 0) run({"SELECT", std::to_string(db)});
    }
  }
  ~RawRedis() {
    if (ctx_ != nullptr) redisFree(ctx_);
  }
  RawRedis(const RawRedis&) = delete;
  RawRedis& operator=(const RawRedis&) = delete;

  bool ok() const { return ctx_ != nullptr && ctx_->err == 0; }

  /// Runs one command; a failed connection gives an error reply "IO: ...".
  RawReply run(const std::vector<std::string>& argv) {
    RawReply out;
    if (!ok()) {
      out.type = REDIS_REPLY_ERROR;
      out.str = "IO: not connected";
      return out;
    }
    std::vector<const char*> ptrs;
    std::vector<std::size_t> lens;
    for (const auto& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    void* raw = redisCommandArgv(ctx_, static_cast<int>(argv.size()), ptrs.data(), lens.data());
    if (raw == nullptr) {
      out.type = REDIS_REPLY_ERROR;
      out.str = std::string("IO: ") + ctx_->errstr;
      return out;
    }
    auto* reply = static_cast<redisReply*>(raw);
    out = convert(reply);
    freeReplyObject(reply);
    return out;
  }

  /// The next reply without sending anything (a message on a subscribed
  /// connection); an error reply "IO: ..." after the 2 s timeout.
  RawReply next() {
    RawReply out;
    void* raw = nullptr;
    if (!ok() || redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
      out.type = REDIS_REPLY_ERROR;
      out.str = ok() ? "IO: no reply" : "IO: not connected";
      return out;
    }
    auto* reply = static_cast<redisReply*>(raw);
    out = convert(reply);
    freeReplyObject(reply);
    return out;
  }

  std::string get(const std::string& key) { return run({"GET", key}).str; }
  std::vector<std::string> list(const std::string& key) {
    return run({"LRANGE", key, "0", "-1"}).strings();
  }
  std::vector<std::string> members(const std::string& key) {
    auto v = run({"SMEMBERS", key}).strings();
    std::sort(v.begin(), v.end());
    return v;
  }
  std::map<std::string, std::string> hash(const std::string& key) {
    auto v = run({"HGETALL", key}).strings();
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i + 1 < v.size(); i += 2) out[v[i]] = v[i + 1];
    return out;
  }
  long long ttl(const std::string& key) { return run({"TTL", key}).integer; }
  std::vector<std::string> keys(const std::string& pattern = "*") {
    auto v = run({"KEYS", pattern}).strings();
    std::sort(v.begin(), v.end());
    return v;
  }

 private:
  static RawReply convert(const redisReply* r) {
    RawReply out;
    out.type = r->type;
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
        r->type == REDIS_REPLY_ERROR)
      out.str.assign(r->str, r->len);
    if (r->type == REDIS_REPLY_INTEGER) {
      out.integer = r->integer;
      out.str = std::to_string(r->integer);
    }
    if (r->type == REDIS_REPLY_ARRAY)
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
    return out;
  }
  redisContext* ctx_ = nullptr;
};

struct RedisServerOptions {
  bool appendonly = false;  ///< AOF (fsync every write) so data survives a restart
  std::string password;     ///< requirepass, if not empty
};

/// A redis-server child process. The port is chosen by the first start() and
/// kept across restarts; the data directory is a temp dir removed at the end.
class RedisServer {
 public:
  static constexpr const char* kBinary = "/usr/bin/redis-server";
  static bool installed() { return ::access(kBinary, X_OK) == 0; }

  explicit RedisServer(RedisServerOptions options = {}) : options_(std::move(options)) {
    char tmpl[] = "/tmp/errand-redis-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) dir_ = tmpl;
  }
  ~RedisServer() {
    stop();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  /// Starts the server and waits until it answers PING. On failure returns
  /// false and says why in `*error`.
  bool start(std::string* error = nullptr) {
    if (pid_ > 0) return true;
    if (!installed()) return set_error(error, std::string("redis-server not found at ") + kBinary);
    if (dir_.empty()) return set_error(error, "could not create a temp dir");
    if (port_ != 0) return launch(port_, error);
    std::mt19937 rng(
        static_cast<unsigned>(::getpid()) ^
        static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::uniform_int_distribution<int> pick(6400, 6999);
    std::string last;
    for (int attempt = 0; attempt < 30; ++attempt) {
      int port = pick(rng);
      if (!port_free(port)) continue;
      if (launch(port, &last)) {
        port_ = port;
        return true;
      }
    }
    return set_error(error, "could not start redis-server: " + last);
  }

  /// SIGTERM, then SIGKILL after 5 s. Safe to call when not running.
  void stop() { terminate(SIGTERM); }
  /// SIGKILL at once, as a crash would.
  void kill9() { terminate(SIGKILL); }
  bool restart(std::string* error = nullptr) {
    stop();
    return start(error);
  }

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string url(int db = 0) const {
    std::string auth = options_.password.empty() ? "" : ":" + options_.password + "@";
    return "redis://" + auth + "127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
  }
  std::unique_ptr<RawRedis> raw(int db = 0) const {
    return std::make_unique<RawRedis>(port_, options_.password, db);
  }

 private:
  static bool set_error(std::string* error, const std::string& why) {
    if (error != nullptr) *error = why;
    return false;
  }

  static bool port_free(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }

  bool launch(int port, std::string* error) {
    std::vector<std::string> args{kBinary,
                                  "--port",
                                  std::to_string(port),
                                  "--bind",
                                  "127.0.0.1",
                                  "--save",
                                  "",
                                  "--appendonly",
                                  options_.appendonly ? "yes" : "no",
                                  "--appendfsync",
                                  "always",
                                  "--dir",
                                  dir_,
                                  "--logfile",
                                  dir_ + "/redis.log",
                                  "--daemonize",
                                  "no"};
    if (!options_.password.empty()) {
      args.push_back("--requirepass");
      args.push_back(options_.password);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (::posix_spawn(&pid, kBinary, nullptr, nullptr, argv.data(), environ) != 0)
      return set_error(error, "posix_spawn failed");
    pid_ = pid;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return set_error(error, "redis-server on port " + std::to_string(port) +
                                    " exited at start (see " + dir_ + "/redis.log)");
      }
      RawRedis probe(port, options_.password);
      if (probe.ok() && probe.run({"PING"}).str == "PONG") return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    terminate(SIGKILL);
    return set_error(
        error, "redis-server on port " + std::to_string(port) + " did not answer PING within 10 s");
  }

  void terminate(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = 0;
  }

  RedisServerOptions options_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = 0;
};

}  // namespace errand::testing
