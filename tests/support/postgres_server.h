// A real PostgreSQL 15 server for tests, on a free loopback port, plus a raw
// libpq connection to look at (or change) what the store wrote.
//
// The cluster is made once per machine by initdb into a template directory
// (/tmp/errand-pg-template-<uid>-15, password authentication over TCP, user
// "errand" with password "secret") and copied for each server, which then
// starts in well under a second. When the tests run as root, initdb, the
// copy and the server run as the `postgres` system user (the server refuses
// root). The server dies with the test (PR_SET_PDEATHSIG), so a crashed test
// leaves no server behind.
//
// Header-only on purpose: CMakeLists.txt compiles tests/*.cc and
// tests/store_conformance/*.cc, not tests/support/*.cc.
//
// Thread safety: a PostgresServer is driven from one test thread; RawPg is
// one connection, for one thread.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <postgresql/libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace errand::testing {

/// A plain libpq connection for assertions and setup.
class RawPg {
 public:
  explicit RawPg(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {}
  ~RawPg() {
    if (conn_) PQfinish(conn_);
  }
  RawPg(const RawPg&) = delete;
  RawPg& operator=(const RawPg&) = delete;

  bool ok() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }
  std::string error() const { return conn_ ? PQerrorMessage(conn_) : "no connection"; }
  PGconn* handle() { return conn_; }

  /// Runs `sql`; the rows as text ("" for NULL). On error, `*err` gets the
  /// message (or the test fails, when err is null).
  std::vector<std::vector<std::string>> exec(const std::string& sql, std::string* err = nullptr) {
    std::vector<std::vector<std::string>> out;
    PGresult* res = PQexec(conn_, sql.c_str());
    const auto st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      std::string msg = PQresultErrorMessage(res);
      if (err)
        *err = msg.empty() ? error() : msg;
      else
        ADD_FAILURE() << sql << ": " << msg << error();
    } else {
      for (int r = 0; r < PQntuples(res); ++r) {
        out.emplace_back();
        for (int c = 0; c < PQnfields(res); ++c) out.back().push_back(PQgetvalue(res, r, c));
      }
    }
    PQclear(res);
    return out;
  }
  /// The first column of the first row, or "".
  std::string value(const std::string& sql) {
    auto rows = exec(sql);
    return rows.empty() || rows[0].empty() ? std::string() : rows[0][0];
  }

 private:
  PGconn* conn_;
};

/// A postgres server child process. The port is chosen by the first start()
/// and kept across restarts; the data directory is removed at the end.
class PostgresServer {
 public:
  static constexpr const char* kBin = "/usr/lib/postgresql/15/bin";
  static constexpr const char* kUser = "errand";
  static constexpr const char* kPassword = "secret";
  static bool installed() { return ::access((std::string(kBin) + "/postgres").c_str(), X_OK) == 0; }

  PostgresServer() {
    char tmpl[] = "/tmp/errand-pg-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) dir_ = tmpl;
  }
  ~PostgresServer() {
    stop();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  /// Durable: fsync, full_page_writes and synchronous_commit on (the tests'
  /// server turns the first two off; make bench measures both). Set before start().
  void set_durable(bool on) { durable_ = on; }

  /// Starts the server and waits until it accepts connections. On failure
  /// returns false and says why in `*error`.
  bool start(std::string* error = nullptr) {
    if (pid_ > 0) return true;
    if (!installed()) return fail(error, std::string("PostgreSQL 15 not found in ") + kBin);
    if (dir_.empty()) return fail(error, "could not create a temp dir");
    if (!prepared_) {
      if (!prepare(error)) return false;
      prepared_ = true;
    }
    if (port_ != 0) return launch(port_, error);
    std::mt19937 rng(
        static_cast<unsigned>(::getpid()) ^
        static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::uniform_int_distribution<int> pick(15500, 16999);
    std::string last;
    for (int attempt = 0; attempt < 20; ++attempt) {
      const int port = pick(rng);
      if (!port_free(port)) continue;
      if (launch(port, &last)) {
        port_ = port;
        return true;
      }
    }
    return fail(error, "could not start postgres: " + last);
  }

  /// Fast shutdown (SIGINT: sessions cut, data kept), SIGKILL after 10 s.
  void stop() { terminate(SIGINT); }
  /// SIGKILL the postmaster at once, as a crash would (its backends exit too).
  void kill9() { terminate(SIGKILL); }
  bool restart(std::string* error = nullptr) {
    stop();
    return start(error);
  }

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  /// A store URL for `db` with tables in `schema`.
  std::string url(const std::string& schema = "errand", const std::string& db = "postgres",
                  const std::string& password = kPassword) const {
    return "postgres://" + std::string(kUser) + ":" + password +
           "@127.0.0.1:" + std::to_string(port_) + "/" + db + "?schema=" + schema;
  }
  std::string conninfo(const std::string& db = "postgres") const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + kUser +
           " password=" + kPassword + " dbname=" + db + " connect_timeout=5";
  }
  std::unique_ptr<RawPg> raw(const std::string& db = "postgres") const {
    return std::make_unique<RawPg>(conninfo(db));
  }
  std::string log() const {
    std::ifstream in(dir_ + "/postgres.log");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

 private:
  static bool fail(std::string* error, const std::string& why) {
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
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }

  // The account PostgreSQL runs as: ourselves, or `postgres` when we are root.
  struct Account {
    bool switch_user = false;
    uid_t uid = 0;
    gid_t gid = 0;
  };
  static Account account() {
    Account a;
    if (::geteuid() != 0) return a;
    if (const passwd* pw = ::getpwnam("postgres")) {
      a.switch_user = true;
      a.uid = pw->pw_uid;
      a.gid = pw->pw_gid;
    }
    return a;
  }

  // fork + exec as the server's account, output to `log`. Only
  // async-signal-safe calls between fork and exec.
  static pid_t spawn(const std::vector<std::string>& args, const std::string& log,
                     bool die_with_parent) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const Account acc = account();
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid != 0) return pid;
    if (acc.switch_user) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(acc.gid) != 0 || ::setuid(acc.uid) != 0)
        ::_exit(126);
    }
    if (die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGQUIT);
      if (::getppid() != parent) ::_exit(0);
    }
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }

  static bool run_to_end(const std::vector<std::string>& args, const std::string& log) {
    const pid_t pid = spawn(args, log, false);
    if (pid < 0) return false;
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

  static void give_to_server(const std::string& path) {
    const Account acc = account();
    if (acc.switch_user && ::chown(path.c_str(), acc.uid, acc.gid) != 0) return;
  }

  // The shared template cluster, made by the first test that needs it.
  static std::string template_dir(std::string* error) {
    const std::string final_dir = "/tmp/errand-pg-template-" + std::to_string(::geteuid()) + "-15";
    if (std::filesystem::exists(final_dir + "/PG_VERSION")) return final_dir;
    char tmpl[] = "/tmp/errand-pg-tpl-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return fail(error, "mkdtemp failed"), std::string();
    const std::string work = tmpl;
    give_to_server(work);
    {
      std::ofstream pw(work + "/pw");
      pw << kPassword << "\n";
    }
    give_to_server(work + "/pw");
    const std::string data = work + "/data";
    if (!run_to_end({std::string(kBin) + "/initdb", "-D", data, "-U", kUser,
                     "--pwfile=" + work + "/pw", "--auth-host=scram-sha-256", "--auth-local=trust",
                     "-E", "UTF8", "--locale=C", "--no-sync"},
                    work + "/initdb.log")) {
      std::ifstream in(work + "/initdb.log");
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      return fail(error, "initdb failed: " + text), std::string();
    }
    {
      std::ofstream conf(data + "/postgresql.conf", std::ios::app);
      conf << "listen_addresses = '127.0.0.1'\nfsync = off\nfull_page_writes = off\n"
              "shared_buffers = 32MB\nmax_connections = 300\nlog_min_messages = warning\n";
    }
    // Publish atomically; if another test won the race, use its copy.
    std::error_code ec;
    std::filesystem::rename(data, final_dir, ec);
    std::filesystem::remove_all(work, ec);
    if (!std::filesystem::exists(final_dir + "/PG_VERSION"))
      return fail(error, "could not publish the template cluster at " + final_dir), std::string();
    return final_dir;
  }

  bool prepare(std::string* error) {
    const std::string tpl = template_dir(error);
    if (tpl.empty()) return false;
    give_to_server(dir_);
    if (!run_to_end({"/bin/cp", "-a", tpl, dir_ + "/data"}, dir_ + "/cp.log"))
      return fail(error, "could not copy the template cluster " + tpl);
    return true;
  }

  bool launch(int port, std::string* error) {
    const std::string log = dir_ + "/postgres.log";
    std::vector<std::string> argv = {std::string(kBin) + "/postgres",
                                     "-D",
                                     dir_ + "/data",
                                     "-p",
                                     std::to_string(port),
                                     "-k",
                                     dir_,
                                     "-c",
                                     "listen_addresses=127.0.0.1"};
    if (durable_)
      for (const char* setting : {"fsync=on", "full_page_writes=on", "synchronous_commit=on"})
        argv.insert(argv.end(), {"-c", setting});
    pid_ = spawn(argv, log, true);
    if (pid_ <= 0) return fail(error, "fork failed");
    const std::string probe = "host=127.0.0.1 port=" + std::to_string(port) +
                              " dbname=postgres user=" + kUser + " connect_timeout=2";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return fail(error, "postgres on port " + std::to_string(port) + " exited at start:\n" +
                               this->log());
      }
      if (PQping(probe.c_str()) == PQPING_OK) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    terminate(SIGKILL);
    return fail(error, "postgres on port " + std::to_string(port) + " did not start in 60 s");
  }

  void terminate(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
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
    if (sig == SIGKILL) {
      // The postmaster's children outlive a SIGKILL of it for a moment; the
      // next start waits for the old shared memory to go (postmaster.pid).
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

  std::string dir_;
  bool prepared_ = false;
  bool durable_ = false;
  int port_ = 0;
  pid_t pid_ = 0;
};

}  // namespace errand::testing
