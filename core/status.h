#pragma once
// The closed error vocabulary of Vigil (LevelDB's Status, STYLE rule 8). Every fallible
// operation returns a Status or a Result<T>; exceptions never cross a layer boundary.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "core/assert.h"

namespace vigil::core {

enum class Code : std::uint8_t {
  ok = 0,
  // The key, hint or record does not exist. Caller: treat as absent; not an error to log.
  not_found,
  // Too few replicas could be reached to meet the request's quorum. Caller: retry later or
  // at a lower consistency level; the operation may or may not have taken effect.
  unavailable,
  // No answer within the deadline. Caller: like unavailable; the outcome is unknown.
  timeout,
  // Stored or received bytes failed their checksum or could not be decoded. Caller: do not
  // use the data; report it and repair from another replica.
  corruption,
  // The request or input is malformed or out of range (bad key, bad frame, bad config).
  // Caller: fix the input; retrying the same input gives the same answer.
  invalid_argument,
  // The operating system refused an I/O operation. Caller: the durable state is unknown;
  // a store that returns io_error from commit refuses further writes (sticky error).
  io_error,
  // A bound was reached (queue length, hint backlog, sibling count, frame size).
  // Caller: back off; the bound and the count of refusals are reported in metrics.
  resource_exhausted,
  // The operation is not valid in the current state (e.g. a store opened read-only, or a
  // schema newer than this binary knows). Caller: fix the deployment.
  failed_precondition,
};

std::string_view code_name(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return {}; }

  bool ok() const { return code_ == Code::ok; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "corruption: checksum mismatch in key 'a'"
  std::string to_string() const;

  friend bool operator==(const Status& a, const Status& b) = default;

 private:
  Code code_ = Code::ok;
  std::string message_;
};

inline Status error(Code code, std::string message) { return {code, std::move(message)}; }

// A value or an error (std::expected is C++23; Debian 12's g++ 12 lacks it).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Status status) : state_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    VIGIL_ASSERT(!std::get<1>(state_).ok(), "a Result error must not be ok");
  }

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok().
  T& value() & {
    VIGIL_ASSERT(ok(), "Result::value() on an error");
    return std::get<0>(state_);
  }
  const T& value() const& {
    VIGIL_ASSERT(ok(), "Result::value() on an error");
    return std::get<0>(state_);
  }
  T&& value() && {
    VIGIL_ASSERT(ok(), "Result::value() on an error");
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // The error; Status::ok_status() when ok().
  Status status() const { return ok() ? Status{} : std::get<1>(state_); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace vigil::core
