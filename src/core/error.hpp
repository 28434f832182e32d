#pragma once

#include <boost/system/result.hpp>
#include <stdexcept>
#include <string>
#include <utility>

namespace msg::core {

/// The one error vocabulary of expected outcomes (STYLE rule 14). transport/error_response.cpp
/// maps each code to an HTTP status and a WebSocket close code.
enum class ErrorCode {
    invalid_argument,   // 400
    unauthorized,       // 401
    forbidden,          // 403
    not_found,          // 404
    conflict,           // 409
    payload_too_large,  // 413
    too_many_requests,  // 429
    unavailable,        // 503
};

/// An expected failure: a code plus the client-visible message (never internal detail).
struct Error {
    ErrorCode code = ErrorCode::invalid_argument;
    std::string message;
    /// Seconds a client should wait before retrying (too_many_requests; unavailable when set).
    int retry_after_seconds = 0;
};

inline Error invalid(std::string m) { return {ErrorCode::invalid_argument, std::move(m)}; }
inline Error unauthorized(std::string m) { return {ErrorCode::unauthorized, std::move(m)}; }
inline Error forbidden(std::string m) { return {ErrorCode::forbidden, std::move(m)}; }
inline Error not_found(std::string m) { return {ErrorCode::not_found, std::move(m)}; }
inline Error conflict(std::string m) { return {ErrorCode::conflict, std::move(m)}; }
inline Error unavailable(std::string m) { return {ErrorCode::unavailable, std::move(m)}; }

/// Thrown by Result::value() on an error; handlers normally test the result instead.
class ErrorException : public std::runtime_error {
  public:
    explicit ErrorException(Error e) : std::runtime_error(e.message), error_(std::move(e)) {}
    const Error& error() const { return error_; }

  private:
    Error error_;
};

[[noreturn]] inline void throw_exception_from_error(const Error& e, const boost::source_location&) {
    throw ErrorException(e);
}

template <class T>
using Result = boost::system::result<T, Error>;

}  // namespace msg::core

namespace msg::core {

/// Infrastructure failure a client can retry: the database is unreachable, a pool is exhausted
/// past its wait deadline. Mapped to 503 `service unavailable`; the detail goes to the log only.
class UnavailableException : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace msg::core
