#pragma once

#include "core/error.hpp"
#include "core/http.hpp"

namespace msg::transport {

/// The one place mapping the error vocabulary to the wire (STYLE rule 14).
unsigned http_status(core::ErrorCode code);
/// `{"error": message}` with the mapped status (and Retry-After for 429).
core::HttpResponse error_response(const core::Error& error);

}  // namespace msg::transport
