// hiredis connections, the pool, and the command helpers. See connection.h.
#include "store/redis/connection.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "core/text.h"

namespace errand::redis {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr milliseconds kFirstBackoff{50};
constexpr milliseconds kMaxBackoff{2'000};

timeval to_timeval(milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

// hiredis writes with write(2): on a socket the peer closed, that raises
// SIGPIPE, whose default action kills the process. A library must not change
// the process's signal dispositions, so each call blocks SIGPIPE in the
// calling thread, swallows one it caused, and restores the mask.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    pending_before_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~SigpipeGuard() {
    if (!pending_before_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        timespec zero{0, 0};
        while (sigtimedwait(&set_, nullptr, &zero) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t set_{};
  sigset_t old_{};
  bool pending_before_ = false;
};

// argv for hiredis: pointers and lengths into the std::strings (binary-safe).
struct CArgv {
  template <class Words>
  explicit CArgv(const Words& argv) {
    ptrs.reserve(argv.size());
    lens.reserve(argv.size());
    for (const auto& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
  }
  int argc() const { return static_cast<int>(ptrs.size()); }
  std::vector<const char*> ptrs;
  std::vector<std::size_t> lens;
};

}  // namespace

// ---- Endpoint and URL --------------------------------------------------------

std::string Endpoint::address() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

// parse_url: url.cc.

// ---- replies -----------------------------------------------------------------

void ReplyDeleter::operator()(redisReply* r) const noexcept {
  if (r != nullptr) freeReplyObject(r);
}

bool is_nil(const redisReply* r) noexcept { return r == nullptr || r->type == REDIS_REPLY_NIL; }
bool is_error(const redisReply* r) noexcept { return r != nullptr && r->type == REDIS_REPLY_ERROR; }

std::string_view str(const redisReply* r) noexcept {
  if (r == nullptr) return {};
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
      r->type == REDIS_REPLY_ERROR)
    return {r->str, r->len};
  return {};
}

std::int64_t integer(const redisReply* r, std::int64_t fallback) noexcept {
  if (r == nullptr) return fallback;
  if (r->type == REDIS_REPLY_INTEGER) return r->integer;
  if (r->type == REDIS_REPLY_STRING) {
    if (auto v = text::parse_number<std::int64_t>(std::string_view(r->str, r->len))) return *v;
  }
  return fallback;
}

std::size_t size(const redisReply* r) noexcept {
  return r != nullptr && r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
}

const redisReply* at(const redisReply* r, std::size_t i) noexcept { return r->element[i]; }

// ---- Connection --------------------------------------------------------------

Result<std::unique_ptr<Connection>> Connection::open(const Endpoint& ep) {
  auto unreachable = [&](std::string why) {
    return fail(Errc::unavailable, "redis " + ep.address() + " unreachable: " + why);
  };
  redisContext* ctx =
      redisConnectWithTimeout(ep.host.c_str(), ep.port, to_timeval(ep.connect_timeout));
  if (ctx == nullptr) return unreachable("out of memory allocating the connection");
  if (ctx->err != 0) {
    std::string why = ctx->errstr;
    if (why.empty() || why == "Resource temporarily unavailable")
      why = "connect timed out after " + std::to_string(ep.connect_timeout.count()) + " ms";
    redisFree(ctx);
    return unreachable(why);
  }
  std::unique_ptr<Connection> conn(new Connection(ctx, ep));
  conn->set_timeout(ep.command_timeout);
  if (!ep.password.empty()) {
    Argv auth =
        ep.username.empty() ? Argv{"AUTH", ep.password} : Argv{"AUTH", ep.username, ep.password};
    auto r = conn->command(auth);
    if (!r) return r.error();
    if (is_error(r->get()))
      return fail(Errc::unavailable,
                  "redis " + ep.address() + ": AUTH failed: " + std::string(str(r->get())));
  }
  if (ep.db != 0) {
    auto r = conn->command({"SELECT", std::to_string(ep.db)});
    if (!r) return r.error();
    if (is_error(r->get()))
      return fail(Errc::invalid_argument, "redis " + ep.address() + ": SELECT " +
                                              std::to_string(ep.db) +
                                              " failed: " + std::string(str(r->get())));
  }
  return conn;
}

Connection::~Connection() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

void Connection::set_timeout(milliseconds timeout) {
  if (ctx_ != nullptr && !broken_) redisSetTimeout(ctx_, to_timeval(timeout));
}

Error Connection::io_error() {
  broken_ = true;
  std::string why = ctx_->errstr;
  if (ctx_->err == REDIS_ERR_IO && (why == "Resource temporarily unavailable" || why.empty()))
    why = "no reply within the command timeout";
  if (ctx_->err == REDIS_ERR_EOF) why = "connection closed by the server";
  return fail(Errc::unavailable, "redis " + endpoint_.address() + " unreachable: " + why);
}

Result<Reply> Connection::command(const Argv& argv) {
  if (broken_)
    return fail(Errc::unavailable,
                "redis " + endpoint_.address() + " unreachable: connection already failed");
  SigpipeGuard guard;
  CArgv c(argv);
  void* raw = redisCommandArgv(ctx_, c.argc(), c.ptrs.data(), c.lens.data());
  if (raw == nullptr) return io_error();
  return Reply(static_cast<redisReply*>(raw));
}

Result<Reply> Connection::read_reply() {
  if (broken_)
    return fail(Errc::unavailable,
                "redis " + endpoint_.address() + " unreachable: connection already failed");
  void* raw = nullptr;
  if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) return io_error();
  return Reply(static_cast<redisReply*>(raw));
}

Result<std::optional<Reply>> Connection::poll_reply(int stop_fd, milliseconds timeout) {
  if (broken_)
    return fail(Errc::unavailable,
                "redis " + endpoint_.address() + " unreachable: connection already failed");
  void* raw = nullptr;
  // A reply hiredis already read into its buffer first: poll() cannot see it.
  if (redisGetReplyFromReader(ctx_, &raw) != REDIS_OK) return io_error();
  if (raw != nullptr) return std::optional<Reply>(Reply(static_cast<redisReply*>(raw)));
  pollfd fds[2] = {{ctx_->fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
  const int ready = ::poll(fds, 2, static_cast<int>(timeout.count()));
  if (ready <= 0 || fds[1].revents != 0) return std::optional<Reply>();
  if (redisBufferRead(ctx_) != REDIS_OK) return io_error();
  if (redisGetReplyFromReader(ctx_, &raw) != REDIS_OK) return io_error();
  if (raw == nullptr) return std::optional<Reply>();  // part of a reply so far
  return std::optional<Reply>(Reply(static_cast<redisReply*>(raw)));
}

Result<std::vector<Reply>> Connection::pipeline(const std::vector<Argv>& commands) {
  return pipeline_of(commands);
}

Result<std::vector<Reply>> Connection::pipeline(const std::vector<ArgvView>& commands) {
  return pipeline_of(commands);
}

template <class Commands>
Status Connection::append_all(const Commands& commands) {
  if (broken_)
    return fail(Errc::unavailable,
                "redis " + endpoint_.address() + " unreachable: connection already failed");
  for (const auto& argv : commands) {
    CArgv c(argv);
    if (redisAppendCommandArgv(ctx_, c.argc(), c.ptrs.data(), c.lens.data()) != REDIS_OK)
      return io_error();
  }
  return {};
}

Status Connection::send(const std::vector<Argv>& commands) {
  SigpipeGuard guard;
  if (auto st = append_all(commands); !st) return st;
  int done = 0;
  while (done == 0)
    if (redisBufferWrite(ctx_, &done) != REDIS_OK) return io_error();
  return {};
}

template <class Commands>
Result<std::vector<Reply>> Connection::pipeline_of(const Commands& commands) {
  SigpipeGuard guard;
  if (auto st = append_all(commands); !st) return st;
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) return io_error();
    replies.emplace_back(static_cast<redisReply*>(raw));
  }
  return replies;
}

// ---- Pool --------------------------------------------------------------------

Lease::~Lease() {
  if (pool_ != nullptr && conn_) pool_->release(std::move(conn_), generation_);
}

Pool::Pool(Endpoint endpoint, std::size_t size)
    : endpoint_(std::move(endpoint)), size_(std::max<std::size_t>(size, 1)) {}

Pool::~Pool() = default;

Result<Lease> Pool::acquire() {
  std::unique_lock lock(mu_);
  std::vector<std::unique_ptr<Connection>> stale;  // closed after unlocking
  for (;;) {
    while (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      auto gen = idle_generation_.back();
      idle_.pop_back();
      idle_generation_.pop_back();
      if (gen == generation_) return Lease(this, std::move(conn), gen);
      stale.push_back(std::move(conn));
      --open_;
    }
    if (open_ < size_) break;
    cv_.wait(lock);
  }
  auto now = steady_clock::now();
  if (now < retry_at_) {
    auto wait = std::chrono::duration_cast<milliseconds>(retry_at_ - now).count();
    return fail(Errc::unavailable,
                last_error_ + " (next attempt in " + std::to_string(wait) + " ms)");
  }
  ++open_;
  const auto gen = generation_;
  lock.unlock();
  stale.clear();
  auto conn = Connection::open(endpoint_);
  lock.lock();
  if (!conn) {
    --open_;
    backoff_ = backoff_.count() == 0 ? kFirstBackoff : std::min(backoff_ * 2, kMaxBackoff);
    retry_at_ = steady_clock::now() + backoff_;
    last_error_ = conn.error().message();
    ++generation_;
    cv_.notify_one();
    return conn.error();
  }
  backoff_ = milliseconds(0);
  retry_at_ = {};
  return Lease(this, std::move(conn).value(), gen);
}

void Pool::release(std::unique_ptr<Connection> conn, std::uint64_t generation) {
  {
    std::lock_guard lock(mu_);
    if (conn->broken()) {
      // The server went away or the socket failed: the other idle connections
      // are most likely dead as well, so retire them all.
      if (generation == generation_) ++generation_;
      --open_;
    } else if (generation != generation_) {
      --open_;
    } else {
      idle_.push_back(std::move(conn));
      idle_generation_.push_back(generation);
    }
  }
  cv_.notify_one();
  // A dropped connection (if any) is closed here, outside the lock.
}

// ---- Script ------------------------------------------------------------------

std::string Script::sha() const {
  std::lock_guard lock(mu_);
  return sha_;
}

void Script::set_sha(std::string sha) const {
  std::lock_guard lock(mu_);
  sha_ = std::move(sha);
}

// ---- Client ------------------------------------------------------------------

Client::Client(const Endpoint& endpoint, std::size_t pool_size)
    : main_(endpoint, pool_size), blocking_(endpoint, pool_size) {}

Error Client::reply_error(std::string_view what, const redisReply* r) const {
  std::string text(str(r));
  Errc code = Errc::internal;
  if (text.starts_with("WRONGTYPE")) {
    code = Errc::corrupt;
  } else if (text.starts_with("LOADING") || text.starts_with("BUSY") ||
             text.starts_with("MASTERDOWN") || text.starts_with("TRYAGAIN") ||
             text.starts_with("OOM") || text.starts_with("NOAUTH") ||
             text.starts_with("READONLY") || text.starts_with("CLUSTERDOWN")) {
    code = Errc::unavailable;
  }
  return fail(code, "redis " + endpoint().address() + ": " + std::string(what) + ": " + text);
}

Result<Reply> Client::cmd(const Argv& argv) {
  auto lease = main_.acquire();
  if (!lease) return lease.error();
  auto r = lease.value()->command(argv);
  if (!r) return r.error();
  if (is_error(r->get())) return reply_error(argv.front(), r->get());
  return r;
}

Result<std::vector<Reply>> Client::pipe(const std::vector<Argv>& commands) {
  if (commands.empty()) return std::vector<Reply>{};
  auto lease = main_.acquire();
  if (!lease) return lease.error();
  auto r = lease.value()->pipeline(commands);
  if (!r) return r.error();
  for (std::size_t i = 0; i < r->size(); ++i)
    if (is_error((*r)[i].get())) return reply_error(commands[i].front(), (*r)[i].get());
  return r;
}

Result<Reply> Client::multi(const std::vector<Argv>& commands) {
  std::vector<Argv> all;
  all.reserve(commands.size() + 2);
  all.push_back({"MULTI"});
  all.insert(all.end(), commands.begin(), commands.end());
  all.push_back({"EXEC"});
  auto lease = main_.acquire();
  if (!lease) return lease.error();
  auto r = lease.value()->pipeline(all);
  if (!r) return r.error();
  auto& replies = r.value();
  // A command rejected while queueing makes EXEC fail with EXECABORT; report
  // the first rejection, which says what was wrong.
  for (std::size_t i = 0; i + 1 < replies.size(); ++i)
    if (is_error(replies[i].get())) return reply_error(all[i].front(), replies[i].get());
  Reply exec = std::move(replies.back());
  if (is_error(exec.get())) return reply_error("EXEC", exec.get());
  if (is_nil(exec.get()))
    return fail(Errc::internal, "redis " + endpoint().address() + ": EXEC aborted");
  for (std::size_t i = 0; i < size(exec.get()); ++i)
    if (is_error(at(exec.get(), i))) return reply_error(commands[i].front(), at(exec.get(), i));
  return exec;
}

Result<bool> Client::watched(const Argv& keys,
                             const std::function<Result<std::vector<Argv>>(Connection&)>& body) {
  auto lease = main_.acquire();
  if (!lease) return lease.error();
  Connection& conn = *lease.value();
  Argv watch{"WATCH"};
  watch.insert(watch.end(), keys.begin(), keys.end());
  auto w = conn.command(watch);
  if (!w) return w.error();
  if (is_error(w->get())) return reply_error("WATCH", w->get());
  auto commands = body(conn);
  if (!commands) {
    (void)conn.command({"UNWATCH"});
    return commands.error();
  }
  std::vector<Argv> all;
  all.reserve(commands->size() + 2);
  all.push_back({"MULTI"});
  all.insert(all.end(), commands->begin(), commands->end());
  all.push_back({"EXEC"});
  auto r = conn.pipeline(all);
  if (!r) return r.error();
  auto& replies = r.value();
  for (std::size_t i = 0; i + 1 < replies.size(); ++i)
    if (is_error(replies[i].get())) return reply_error(all[i].front(), replies[i].get());
  const redisReply* exec = replies.back().get();
  if (is_error(exec)) return reply_error("EXEC", exec);
  if (is_nil(exec)) return false;  // a watched key changed
  for (std::size_t i = 0; i < size(exec); ++i)
    if (is_error(at(exec, i))) return reply_error((*commands)[i].front(), at(exec, i));
  return true;
}

Result<std::string> Client::load(Connection& conn, const Script& script) {
  auto r = conn.command({"SCRIPT", "LOAD", script.source()});
  if (!r) return r.error();
  if (is_error(r->get())) return reply_error("SCRIPT LOAD", r->get());
  std::string sha(str(r->get()));
  script.set_sha(sha);
  return sha;
}

namespace {
bool is_noscript(const redisReply* r) { return is_error(r) && str(r).starts_with("NOSCRIPT"); }
ArgvView view_of(const Argv& words) { return ArgvView(words.begin(), words.end()); }
}  // namespace

Result<Reply> Client::eval(const Script& script, const Argv& keys, const Argv& args) {
  return eval_views(script, view_of(keys), view_of(args));
}

Result<Reply> Client::eval_views(const Script& script, ArgvView keys, ArgvView args) {
  const std::pair<ArgvView, ArgvView> call{std::move(keys), std::move(args)};
  auto r = eval_calls(script, std::span(&call, 1));
  if (!r) return r.error();
  return std::move(r->front());
}

Result<std::vector<Reply>> Client::eval_many(const Script& script,
                                             const std::vector<std::pair<Argv, Argv>>& calls) {
  std::vector<std::pair<ArgvView, ArgvView>> views;
  views.reserve(calls.size());
  for (const auto& [keys, args] : calls) views.emplace_back(view_of(keys), view_of(args));
  return eval_calls(script, views);
}

Result<std::vector<Reply>> Client::eval_calls(
    const Script& script, std::span<const std::pair<ArgvView, ArgvView>> calls) {
  if (calls.empty()) return std::vector<Reply>{};
  auto lease = main_.acquire();
  if (!lease) return lease.error();
  Connection& conn = *lease.value();
  std::string sha = script.sha();
  if (sha.empty()) {
    auto loaded = load(conn, script);
    if (!loaded) return loaded.error();
    sha = *loaded;
  }
  // The words point into the callers' strings: an ack's payloads are copied
  // once, by hiredis, not three times on the way (they were 4 % of a
  // worker's CPU).
  std::vector<std::string> counts;
  counts.reserve(calls.size());
  std::vector<ArgvView> commands;
  commands.reserve(calls.size());
  for (const auto& [keys, args] : calls) {
    counts.push_back(std::to_string(keys.size()));
    ArgvView& c = commands.emplace_back();
    c.reserve(3 + keys.size() + args.size());
    c.insert(c.end(), {"EVALSHA", sha, counts.back()});
    c.insert(c.end(), keys.begin(), keys.end());
    c.insert(c.end(), args.begin(), args.end());
  }
  auto r = conn.pipeline(commands);
  if (!r) return r.error();
  auto& replies = r.value();
  bool reloaded = false;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (!is_noscript(replies[i].get())) continue;
    // The script cache was emptied (restart, SCRIPT FLUSH): a NOSCRIPT call
    // did not run, so loading the script and sending it again is safe.
    if (!reloaded) {
      auto loaded = load(conn, script);
      if (!loaded) return loaded.error();
      sha = *loaded;
      reloaded = true;
      for (auto& c : commands) c[1] = sha;
    }
    auto again = conn.pipeline(std::vector<ArgvView>{commands[i]});
    if (!again) return again.error();
    replies[i] = std::move(again->front());
  }
  for (auto& reply : replies)
    if (is_error(reply.get())) return reply_error("EVALSHA", reply.get());
  return r;
}

Result<Reply> Client::blocking(const Argv& argv, milliseconds block) {
  auto lease = blocking_.acquire();
  if (!lease) return lease.error();
  Connection& conn = *lease.value();
  conn.set_timeout(endpoint().command_timeout + block);
  auto r = conn.command(argv);
  conn.set_timeout(endpoint().command_timeout);
  if (!r) return r.error();
  if (is_error(r->get())) return reply_error(argv.front(), r->get());
  return r;
}

}  // namespace errand::redis
