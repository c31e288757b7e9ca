// errand's one error model.
//
// Errors a caller must handle (a store that cannot be reached, a job that is
// not found, a payload that does not parse) come back as values: `Status` for
// operations without a result, `Result<T>` for those with one. Exceptions
// thrown by user jobs never cross this boundary: the processor catches them
// and turns them into a job outcome.
//
// Thread safety: Status, Error and Result are plain values; distinct objects
// may be used from distinct threads freely.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace errand {

/// What kind of failure an Error reports. Callers branch on this, never on the
/// message text.
enum class Errc {
  invalid_argument,  ///< the caller passed something malformed (bad JSON, bad URL, bad option)
  not_found,         ///< the job, queue, entry or job class does not exist
  unavailable,       ///< the store cannot be reached right now; retrying later may succeed
  busy,              ///< the store is locked by someone else (e.g. SQLite's database lock)
  corrupt,           ///< stored data is not what errand wrote (schema mismatch, bad payload)
  unsupported,       ///< this store lacks the capability
  io,                ///< a file could not be read or written
  internal,          ///< a bug in errand: please report it
};

/// A readable name for `code`, e.g. "unavailable".
std::string_view to_string(Errc code) noexcept;

/// A failure: a code to branch on and a message for people. Also the exception
/// type thrown by `Result::value()` and `Status::check()` when they hold an error.
class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Errc code() const noexcept { return code_; }
  std::string message() const { return what(); }

 private:
  Errc code_;
};

/// The outcome of an operation that returns nothing: ok, or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;                                            ///< ok
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design
  static Status ok_status() { return {}; }

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  /// Precondition: !ok().
  const Error& error() const { return error_; }
  Errc code() const { return error_.code(); }
  std::string message() const { return ok_ ? std::string("ok") : error_.message(); }
  /// Throws the held Error, if any.
  void check() const {
    if (!ok_) throw error_;
  }

 private:
  Error error_{Errc::internal, ""};
  bool ok_ = true;
};

/// A value of type T, or an Error. Modelled on C++23 std::expected.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}         // NOLINT
  Result(const Status& status) : v_(std::in_place_index<1>, status.error()) {}  // NOLINT: !ok only

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  /// The value; throws the Error if there is none.
  T& value() & {
    if (!ok()) throw std::get<1>(v_);
    return std::get<0>(v_);
  }
  const T& value() const& {
    if (!ok()) throw std::get<1>(v_);
    return std::get<0>(v_);
  }
  T&& value() && {
    if (!ok()) throw std::get<1>(v_);
    return std::get<0>(std::move(v_));
  }
  T value_or(T fallback) const& { return ok() ? std::get<0>(v_) : std::move(fallback); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  /// Precondition: !ok().
  const Error& error() const { return std::get<1>(v_); }
  Errc code() const { return error().code(); }
  Status status() const { return ok() ? Status() : Status(error()); }

 private:
  std::variant<T, Error> v_;
};

/// Shorthand for building errors: `return errand::fail(Errc::not_found, "no such queue");`
inline Error fail(Errc code, std::string message) { return Error(code, std::move(message)); }

}  // namespace errand
