// PostgreSQL for `make bench` (issue #13).
//
//   errand_pg_bench serve [--durable]
//     starts a throw-away PostgreSQL 15 server on a free loopback port (the
//     tests' tests/support/postgres_server.h; --durable: fsync,
//     full_page_writes and synchronous_commit on), prints `url <store url>`,
//     `conninfo <libpq conninfo>` and `uri <postgresql:// URI>` on stdout, and
//     keeps it until stdin closes or a TERM arrives;
//   errand_pg_bench locking --conninfo C [--jobs N] [--workers K]
//     claims N jobs with K connections two ways and prints one JSON line for
//     each: the row locks of FOR UPDATE SKIP LOCKED (what the store does: the
//     claim is an UPDATE, so a crashed worker leaves a claimed row for the
//     rescuer), and Que's session advisory locks (the claim writes nothing,
//     the lock lives as long as the connection, and a row already finished by
//     another session is caught by the DELETE that acknowledges it).
#include <gtest/gtest.h>
#include <postgresql/libpq-fe.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "../../tests/support/postgres_server.h"

namespace {

using Clock = std::chrono::steady_clock;

// One connection; exits the process with the server's message on an error
// (a benchmark has no partial answer worth printing).
class Conn {
 public:
  explicit Conn(const std::string& conninfo) : c_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(c_) != CONNECTION_OK) die("connect");
  }
  ~Conn() { PQfinish(c_); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  void exec(const std::string& sql) { PQclear(check(PQexec(c_, sql.c_str()), sql)); }
  // One text parameter; returns the first column of the first row, or "".
  std::string value(const char* sql, const std::string& param) {
    const char* values[] = {param.c_str()};
    PGresult* r = check(PQexecParams(c_, sql, 1, nullptr, values, nullptr, nullptr, 0), sql);
    std::string out = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    return out;
  }
  std::string value(const char* sql) {
    PGresult* r = check(PQexec(c_, sql), sql);
    std::string out = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    return out;
  }

 private:
  PGresult* check(PGresult* r, const std::string& what) {
    const auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      PQclear(r);
      die(what);
    }
    return r;
  }
  [[noreturn]] void die(const std::string& what) {
    std::cerr << "errand_pg_bench: " << what << ": " << PQerrorMessage(c_) << "\n";
    std::exit(1);
  }
  PGconn* c_;
};

constexpr const char* kSetup = R"(
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS lockbench CASCADE;
CREATE SCHEMA lockbench;
CREATE TABLE lockbench.jobs (
  id bigint PRIMARY KEY, queue text NOT NULL, state text NOT NULL,
  owner text, claimed_at float8, payload text NOT NULL);
CREATE INDEX jobs_ready ON lockbench.jobs (queue, id) WHERE state = 'queued';
)";

// FOR UPDATE SKIP LOCKED, as the store's claim: mark the row claimed, then
// delete it on acknowledgement.
constexpr const char* kSkipClaim =
    "WITH c AS (SELECT id FROM lockbench.jobs WHERE queue = 'default' AND state = 'queued' "
    "           ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) "
    "UPDATE lockbench.jobs j SET state = 'claimed', owner = $1, claimed_at = 0 FROM c "
    "WHERE j.id = c.id RETURNING j.id";
constexpr const char* kSkipAck = "DELETE FROM lockbench.jobs WHERE id = $1::bigint";

// Advisory locks, walking the index one row at a time (a plain WHERE with
// pg_try_advisory_lock could lock rows the LIMIT then drops) until a lock is
// taken; the acknowledgement deletes the row and releases the lock.
constexpr const char* kAdvisoryClaim =
    "WITH RECURSIVE c AS ("
    "  (SELECT id, pg_try_advisory_lock(id) AS locked FROM lockbench.jobs "
    "   WHERE queue = 'default' AND state = 'queued' ORDER BY id LIMIT 1) "
    "  UNION ALL "
    "  (SELECT n.id, pg_try_advisory_lock(n.id) FROM c, LATERAL ("
    "     SELECT id FROM lockbench.jobs WHERE queue = 'default' AND state = 'queued' "
    "     AND id > c.id ORDER BY id LIMIT 1) n WHERE NOT c.locked)) "
    "SELECT id FROM c WHERE locked";
// Returns 1 when this session deleted the row, 0 when another had finished it.
constexpr const char* kAdvisoryAck =
    "WITH d AS (DELETE FROM lockbench.jobs WHERE id = $1::bigint RETURNING id) "
    "SELECT (SELECT count(*) FROM d) FROM (SELECT pg_advisory_unlock($1::bigint)) u";

struct Outcome {
  long done = 0;    // jobs acknowledged
  long missed = 0;  // locked a row another session had already finished
};

Outcome work(const std::string& conninfo, bool advisory, int worker) {
  Conn c(conninfo);
  Outcome o;
  const std::string owner = "w" + std::to_string(worker);
  for (;;) {
    const std::string id = advisory ? c.value(kAdvisoryClaim) : c.value(kSkipClaim, owner);
    if (id.empty()) {
      // Nothing claimable: done when nothing is queued any more.
      if (c.value("SELECT count(*) FROM lockbench.jobs WHERE state = 'queued'") == "0") break;
      continue;
    }
    if (!advisory) {
      c.value(kSkipAck, id);
      ++o.done;
    } else if (c.value(kAdvisoryAck, id) == "1") {
      ++o.done;
    } else {
      ++o.missed;
    }
  }
  return o;
}

int locking(const std::string& conninfo, long jobs, int workers) {
  for (const bool advisory : {false, true}) {
    Conn setup(conninfo);
    setup.exec(kSetup);
    setup.exec(
        "INSERT INTO lockbench.jobs (id, queue, state, payload) SELECT g, 'default', "
        "'queued', '{\"class\":\"NoopJob\",\"args\":[]}' FROM generate_series(1, " +
        std::to_string(jobs) + ") g");
    setup.exec("ANALYZE lockbench.jobs");
    std::vector<Outcome> outcomes(static_cast<std::size_t>(workers));
    std::vector<std::thread> threads;
    const auto start = Clock::now();
    for (int w = 0; w < workers; ++w)
      threads.emplace_back(
          [&, w] { outcomes[static_cast<std::size_t>(w)] = work(conninfo, advisory, w); });
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    Outcome total;
    for (const auto& o : outcomes) {
      total.done += o.done;
      total.missed += o.missed;
    }
    std::printf(
        "{\"label\":\"pg-%s\",\"jobs\":%ld,\"workers\":%d,\"seconds\":%.3f,\"rate\":%.1f,"
        "\"missed\":%ld}\n",
        advisory ? "advisory" : "skip-locked", total.done, workers, seconds,
        static_cast<double>(total.done) / seconds, total.missed);
    std::fflush(stdout);
    if (total.done != jobs) {
      std::cerr << "errand_pg_bench: " << total.done << " of " << jobs << " jobs acknowledged\n";
      return 1;
    }
  }
  return 0;
}

int serve(bool durable) {
  // TERM interrupts the read below (no SA_RESTART), so the server is
  // stopped and its directory removed on the way out.
  struct sigaction sa {};
  sa.sa_handler = [](int) {};
  ::sigaction(SIGTERM, &sa, nullptr);
  errand::testing::PostgresServer server;
  server.set_durable(durable);
  std::string error;
  if (!server.start(&error)) {
    std::cerr << "errand_pg_bench: " << error << "\n";
    return 1;
  }
  // The URI without errand's ?schema= (for Ruby's ActiveRecord).
  std::string uri = server.url("errand_bench");
  uri = "postgresql" + uri.substr(uri.find("://"), uri.find('?') - uri.find("://"));
  std::cout << "url " << server.url("errand_bench") << "\nconninfo " << server.conninfo()
            << "\nuri " << uri << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"PostgreSQL for make bench"};
  app.require_subcommand(1);
  auto* serve_cmd = app.add_subcommand("serve", "start a throw-away server and print its URL");
  bool durable = false;
  serve_cmd->add_flag("--durable", durable, "fsync, full_page_writes and synchronous_commit on");
  auto* lock = app.add_subcommand("locking", "SKIP LOCKED against advisory locks");
  std::string conninfo;
  long jobs = 20000;
  int workers = 8;
  lock->add_option("--conninfo", conninfo)->required();
  lock->add_option("--jobs", jobs)->check(CLI::PositiveNumber);
  lock->add_option("--workers", workers)->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);
  if (app.got_subcommand("serve")) return serve(durable);
  return locking(conninfo, jobs, workers);
}
