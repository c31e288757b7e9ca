// libpq, loaded on first use (ERRAND_LAZY_LIBPQ, the default for a shared
// liberrand): the libpq functions the PostgreSQL store calls are defined
// here, hidden inside liberrand (this file is compiled with
// -fvisibility=hidden), and each forwards to the real one, looked up once in
// libpq.so.5, which is dlopen()ed by the first call. A process that never
// opens a postgres:// store never maps libpq and what it pulls in
// (libssl, libcrypto, Kerberos, LDAP, GnuTLS, SASL, ...): about 5 MB of
// resident memory in an idle `errand worker` on Redis or SQLite.
//
// An application that links libpq itself (Client::within) is unaffected:
// its own calls bind to libpq, and so do these once loaded (dlopen returns
// the library already mapped), so a PGconn* is shared by both.
#include "store/postgres/libpq_lazy.h"

#include <dlfcn.h>
#include <postgresql/libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace errand::postgres_lazy {
namespace {

std::string g_load_error;  // written once, by library()'s initializer

/// libpq's handle, or null if it cannot be loaded (why: load_error()).
/// $ERRAND_LIBPQ names another file to load (a libpq of one's own).
void* library() {
  static void* const handle = [] {
    const char* env = std::getenv("ERRAND_LIBPQ");
    const std::string name = env && *env ? env : "libpq.so.5";
    void* h = ::dlopen(name.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (h == nullptr) {
      const char* why = ::dlerror();
      g_load_error = why ? why : name + ": cannot open shared object file";
    }
    return h;
  }();
  return handle;
}

/// A libpq function. Only PQconnectdb may run without libpq (it returns
/// null); every other call follows a connection, so libpq is there.
void* symbol(const char* name, bool required = true) {
  void* lib = library();
  void* fn = lib ? ::dlsym(lib, name) : nullptr;
  if (fn == nullptr && required) {
    std::fprintf(stderr, "errand: libpq.so.5 lacks %s\n", name);
    std::abort();
  }
  return fn;
}

}  // namespace

const char* load_error() { return library() == nullptr ? g_load_error.c_str() : nullptr; }

}  // namespace errand::postgres_lazy

// The real function's address, looked up once; its type is the header's.
#define ERRAND_LIBPQ(name) \
  static const auto real = reinterpret_cast<decltype(&name)>(errand::postgres_lazy::symbol(#name))

PGconn* PQconnectdb(const char* conninfo) {
  static const auto real =
      reinterpret_cast<decltype(&PQconnectdb)>(errand::postgres_lazy::symbol("PQconnectdb", false));
  return real ? real(conninfo) : nullptr;
}
ConnStatusType PQstatus(const PGconn* conn) {
  ERRAND_LIBPQ(PQstatus);
  return real(conn);
}
void PQfinish(PGconn* conn) {
  ERRAND_LIBPQ(PQfinish);
  real(conn);
}
char* PQerrorMessage(const PGconn* conn) {
  ERRAND_LIBPQ(PQerrorMessage);
  return real(conn);
}
PGTransactionStatusType PQtransactionStatus(const PGconn* conn) {
  ERRAND_LIBPQ(PQtransactionStatus);
  return real(conn);
}
int PQsocket(const PGconn* conn) {
  ERRAND_LIBPQ(PQsocket);
  return real(conn);
}
PQnoticeProcessor PQsetNoticeProcessor(PGconn* conn, PQnoticeProcessor proc, void* arg) {
  ERRAND_LIBPQ(PQsetNoticeProcessor);
  return real(conn, proc, arg);
}
int PQconsumeInput(PGconn* conn) {
  ERRAND_LIBPQ(PQconsumeInput);
  return real(conn);
}
PGnotify* PQnotifies(PGconn* conn) {
  ERRAND_LIBPQ(PQnotifies);
  return real(conn);
}
void PQfreemem(void* ptr) {
  ERRAND_LIBPQ(PQfreemem);
  real(ptr);
}
PGresult* PQexec(PGconn* conn, const char* query) {
  ERRAND_LIBPQ(PQexec);
  return real(conn, query);
}
PGresult* PQexecParams(PGconn* conn, const char* command, int n, const Oid* types,
                       const char* const* values, const int* lengths, const int* formats,
                       int result_format) {
  ERRAND_LIBPQ(PQexecParams);
  return real(conn, command, n, types, values, lengths, formats, result_format);
}
PGresult* PQprepare(PGconn* conn, const char* name, const char* query, int n, const Oid* types) {
  ERRAND_LIBPQ(PQprepare);
  return real(conn, name, query, n, types);
}
PGresult* PQexecPrepared(PGconn* conn, const char* name, int n, const char* const* values,
                         const int* lengths, const int* formats, int result_format) {
  ERRAND_LIBPQ(PQexecPrepared);
  return real(conn, name, n, values, lengths, formats, result_format);
}
void PQclear(PGresult* res) {
  ERRAND_LIBPQ(PQclear);
  real(res);
}
ExecStatusType PQresultStatus(const PGresult* res) {
  ERRAND_LIBPQ(PQresultStatus);
  return real(res);
}
char* PQresultErrorMessage(const PGresult* res) {
  ERRAND_LIBPQ(PQresultErrorMessage);
  return real(res);
}
char* PQresultErrorField(const PGresult* res, int fieldcode) {
  ERRAND_LIBPQ(PQresultErrorField);
  return real(res, fieldcode);
}
int PQntuples(const PGresult* res) {
  ERRAND_LIBPQ(PQntuples);
  return real(res);
}
char* PQgetvalue(const PGresult* res, int row, int col) {
  ERRAND_LIBPQ(PQgetvalue);
  return real(res, row, col);
}
int PQgetlength(const PGresult* res, int row, int col) {
  ERRAND_LIBPQ(PQgetlength);
  return real(res, row, col);
}
int PQgetisnull(const PGresult* res, int row, int col) {
  ERRAND_LIBPQ(PQgetisnull);
  return real(res, row, col);
}
char* PQcmdTuples(PGresult* res) {
  ERRAND_LIBPQ(PQcmdTuples);
  return real(res);
}
