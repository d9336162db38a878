// Status and Result: the one error type of the core. No exceptions cross
// a layer boundary; the C facade maps Status codes onto LASHUP_ERR_*.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace lashup {

enum class StatusCode : int {
  ok = 0,
  invalid,       // bad argument or malformed input
  not_found,
  conflict,      // compare-and-set context is stale
  too_large,     // a size limit was exceeded
  unsupported,   // unknown version or message type
  io,            // operating-system error
  tls,           // TLS material missing or unusable
  storage,       // the persistent store failed
  state,         // not allowed in the object's current state
  permission,    // a write to another node's namespace
  type_mismatch, // an operation of another type than the field it addresses
  closed,        // the node is stopped
  again,         // a bounded queue is full; retry later
  internal,
};

class Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status invalid(std::string message) { return {StatusCode::invalid, std::move(message)}; }
  static Status not_found(std::string message) { return {StatusCode::not_found, std::move(message)}; }
  static Status conflict(std::string message) { return {StatusCode::conflict, std::move(message)}; }
  static Status too_large(std::string message) { return {StatusCode::too_large, std::move(message)}; }
  static Status unsupported(std::string message) { return {StatusCode::unsupported, std::move(message)}; }
  static Status io(std::string message) { return {StatusCode::io, std::move(message)}; }
  static Status tls(std::string message) { return {StatusCode::tls, std::move(message)}; }
  static Status storage(std::string message) { return {StatusCode::storage, std::move(message)}; }
  static Status state(std::string message) { return {StatusCode::state, std::move(message)}; }
  static Status permission(std::string message) { return {StatusCode::permission, std::move(message)}; }
  static Status type_mismatch(std::string message) { return {StatusCode::type_mismatch, std::move(message)}; }
  static Status closed(std::string message) { return {StatusCode::closed, std::move(message)}; }
  static Status again(std::string message) { return {StatusCode::again, std::move(message)}; }
  static Status internal(std::string message) { return {StatusCode::internal, std::move(message)}; }

  bool is_ok() const { return code_ == StatusCode::ok; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  StatusCode code_ = StatusCode::ok;
  std::string message_;
};

// A value or a non-ok Status.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) { assert(!status_.is_ok()); }  // NOLINT

  bool is_ok() const { return value_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const { return status_; }
  T& value() & { assert(value_); return *value_; }
  const T& value() const& { assert(value_); return *value_; }
  T&& value() && { assert(value_); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace lashup
