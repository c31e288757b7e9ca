// The Redis connection layer under the Redis store: hiredis sync connections
// in a small pool, with timeouts, AUTH/SELECT, reconnect with capped
// exponential backoff, pipelining, MULTI/EXEC and EVALSHA with a SCRIPT LOAD
// fallback. Nothing here knows Sidekiq's layout; redis_store.cc does.
//
// Error model: a connection that fails (refused, reset, timed out) is thrown
// away and the call returns Errc::unavailable with a message such as
// "redis 127.0.0.1:6390 unreachable: Connection refused". The next call on the
// pool connects again (subject to the backoff). Redis error replies become
// errors too: WRONGTYPE → corrupt, LOADING/BUSY/MASTERDOWN → unavailable,
// anything else → internal (errand sent something Redis did not accept).
//
// Thread safety: Pool and Client are safe to use from many threads; a
// Connection belongs to one thread at a time (the one holding its Lease).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "errand/status.h"

struct redisContext;
struct redisReply;

namespace errand::redis {

/// Where and how to connect.
struct Endpoint {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string username;  ///< Redis 6 ACL user; empty: AUTH with the password only
  std::string password;  ///< empty: no AUTH
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds command_timeout{5'000};

  /// "127.0.0.1:6379", for messages.
  std::string address() const;
};

/// Parses redis://[[user]:password@]host[:port][/db][?namespace=x&pool_size=N
/// &connect_timeout_ms=N&command_timeout_ms=N]. Percent-escapes are decoded
/// in the password. Returns invalid_argument naming the problem.
struct ParsedUrl {
  Endpoint endpoint;
  std::string ns;
  std::optional<std::size_t> pool_size;
};
Result<ParsedUrl> parse_url(std::string_view url);

struct ReplyDeleter {
  void operator()(redisReply* r) const noexcept;
};
/// One reply, owned.
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;
using Argv = std::vector<std::string>;
/// A command whose words live elsewhere (sent without copying them first).
using ArgvView = std::vector<std::string_view>;

// Reading replies (all tolerate a null pointer).
bool is_nil(const redisReply* r) noexcept;
bool is_error(const redisReply* r) noexcept;
/// The text of a string, status or error reply; "" otherwise.
std::string_view str(const redisReply* r) noexcept;
/// An integer reply, or a string reply holding an integer; `fallback` otherwise.
std::int64_t integer(const redisReply* r, std::int64_t fallback = 0) noexcept;
/// Number of elements of an array reply; 0 otherwise.
std::size_t size(const redisReply* r) noexcept;
/// Element `i` of an array reply. Precondition: i < size(r).
const redisReply* at(const redisReply* r, std::size_t i) noexcept;

/// One hiredis connection. Not thread-safe: used by one Lease holder at a time.
class Connection {
 public:
  /// Connects (connect timeout), sets the command timeout, sends AUTH and SELECT.
  static Result<std::unique_ptr<Connection>> open(const Endpoint& endpoint);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Sends one command and reads its reply. An error *reply* is returned as a
  /// reply (check is_error); a failed connection returns unavailable and
  /// leaves the connection broken().
  Result<Reply> command(const Argv& argv);
  /// Sends every command, then reads every reply (one round trip).
  Result<std::vector<Reply>> pipeline(const std::vector<Argv>& commands);
  Result<std::vector<Reply>> pipeline(const std::vector<ArgvView>& commands);
  /// Sends the commands without reading their replies: only on a connection
  /// about to be closed (its replies are never read).
  Status send(const std::vector<Argv>& commands);
  /// Reads one more reply without sending anything: a pub/sub message after
  /// SUBSCRIBE. Waiting past the timeout is an error (unavailable) that
  /// leaves the connection broken().
  Result<Reply> read_reply();
  /// Like read_reply, but returns nullopt instead of blocking when no reply
  /// came within `timeout` or `stop_fd` became readable (the connection
  /// stays usable): a subscriber thread that must notice being stopped.
  Result<std::optional<Reply>> poll_reply(int stop_fd, std::chrono::milliseconds timeout);
  /// Changes the socket read/write timeout (blocking commands need more).
  void set_timeout(std::chrono::milliseconds timeout);
  /// True once an I/O or protocol error has made the connection unusable.
  bool broken() const noexcept { return broken_; }

 private:
  Connection(redisContext* ctx, const Endpoint& endpoint) : ctx_(ctx), endpoint_(endpoint) {}
  Error io_error();
  template <class Commands>
  Status append_all(const Commands& commands);  // to hiredis's output buffer
  template <class Commands>
  Result<std::vector<Reply>> pipeline_of(const Commands& commands);
  redisContext* ctx_;
  Endpoint endpoint_;
  bool broken_ = false;
};

class Pool;

/// A connection borrowed from a Pool; returned (or dropped if broken) on destruction.
class Lease {
 public:
  Lease(Pool* pool, std::unique_ptr<Connection> conn, std::uint64_t generation)
      : pool_(pool), conn_(std::move(conn)), generation_(generation) {}
  Lease(Lease&& other) noexcept = default;
  Lease& operator=(Lease&&) = delete;
  Lease(const Lease&) = delete;
  ~Lease();
  Connection* operator->() const { return conn_.get(); }
  Connection& operator*() const { return *conn_; }

 private:
  Pool* pool_;
  std::unique_ptr<Connection> conn_;
  std::uint64_t generation_;
};

/// At most `size` connections, opened lazily. acquire() waits for a free one.
/// After a connection fails, every idle connection opened before the failure
/// is dropped too (after a Redis restart they are all dead), and new
/// connections are attempted no more often than the backoff allows
/// (50 ms doubling to 2 s; reset by the first success).
class Pool {
 public:
  Pool(Endpoint endpoint, std::size_t size);
  ~Pool();
  Result<Lease> acquire();
  const Endpoint& endpoint() const { return endpoint_; }

 private:
  friend class Lease;
  void release(std::unique_ptr<Connection> conn, std::uint64_t generation);

  const Endpoint endpoint_;
  const std::size_t size_;

  std::mutex mu_;
  std::condition_variable cv_;                        // signalled when a slot or connection frees
  std::vector<std::unique_ptr<Connection>> idle_;     // guarded by mu_
  std::vector<std::uint64_t> idle_generation_;        // guarded by mu_; parallel to idle_
  std::size_t open_ = 0;                              // guarded by mu_: leased + idle + connecting
  std::uint64_t generation_ = 0;                      // guarded by mu_: bumped on each failure
  std::chrono::steady_clock::time_point retry_at_{};  // guarded by mu_: no connect attempt before
  std::chrono::milliseconds backoff_{0};              // guarded by mu_: next wait after a failure
  std::string last_error_;                            // guarded by mu_: why the last connect failed
};

/// A Lua script run with EVALSHA; loaded with SCRIPT LOAD on first use and
/// again whenever Redis answers NOSCRIPT (after a restart or SCRIPT FLUSH).
class Script {
 public:
  explicit Script(std::string source) : source_(std::move(source)) {}
  const std::string& source() const { return source_; }
  std::string sha() const;
  void set_sha(std::string sha) const;

 private:
  std::string source_;
  mutable std::mutex mu_;
  mutable std::string sha_;  // guarded by mu_
};

/// The command helpers the store uses: a pool for ordinary commands and a
/// separate one for blocking commands, so a waiting fetch never starves them.
/// Error replies become Errors (see the file comment).
class Client {
 public:
  Client(const Endpoint& endpoint, std::size_t pool_size);

  const Endpoint& endpoint() const { return main_.endpoint(); }

  /// One command; an error reply becomes an Error.
  Result<Reply> cmd(const Argv& argv);
  /// Commands pipelined in one round trip (not atomic). Fails if any reply is an error.
  Result<std::vector<Reply>> pipe(const std::vector<Argv>& commands);
  /// MULTI, the commands, EXEC in one round trip; returns EXEC's reply (an
  /// array with one element per command). Fails if any element is an error.
  Result<Reply> multi(const std::vector<Argv>& commands);
  /// An optimistic transaction on one connection: WATCH `keys`, run `body`
  /// (which reads through the connection and returns the commands to
  /// apply), then MULTI, those commands, EXEC. Returns false when EXEC was
  /// aborted because a watched key changed first: the caller runs it again.
  Result<bool> watched(const Argv& keys,
                       const std::function<Result<std::vector<Argv>>(Connection&)>& body);
  /// EVALSHA `script` with `keys` and `args`.
  Result<Reply> eval(const Script& script, const Argv& keys, const Argv& args);
  /// The same with words that live elsewhere (an ack's payloads: not copied).
  Result<Reply> eval_views(const Script& script, ArgvView keys, ArgvView args);
  /// Several EVALSHA calls pipelined (each atomic on its own); replies in order.
  Result<std::vector<Reply>> eval_many(const Script& script,
                                       const std::vector<std::pair<Argv, Argv>>& calls);
  /// A blocking command (BRPOPLPUSH ...) on the blocking pool; `block` is how
  /// long Redis may wait, added to the command timeout.
  Result<Reply> blocking(const Argv& argv, std::chrono::milliseconds block);

 private:
  /// EVALSHA of each call (keys, args), its words pointing into the callers' strings.
  Result<std::vector<Reply>> eval_calls(const Script& script,
                                        std::span<const std::pair<ArgvView, ArgvView>> calls);
  Result<std::string> load(Connection& conn, const Script& script);
  Error reply_error(std::string_view what, const redisReply* r) const;

  Pool main_;
  Pool blocking_;
};

}  // namespace errand::redis
