#include "transport/error_response.hpp"

#include <boost/json/value.hpp>

namespace msg::transport {

unsigned http_status(core::ErrorCode code) {
    switch (code) {
        case core::ErrorCode::invalid_argument:
            return 400;
        case core::ErrorCode::unauthorized:
            return 401;
        case core::ErrorCode::forbidden:
            return 403;
        case core::ErrorCode::not_found:
            return 404;
        case core::ErrorCode::conflict:
            return 409;
        case core::ErrorCode::payload_too_large:
            return 413;
        case core::ErrorCode::too_many_requests:
            return 429;
        case core::ErrorCode::unavailable:
            return 503;
    }
    return 500;
}

core::HttpResponse error_response(const core::Error& error) {
    auto res =
        core::json_response(http_status(error.code), boost::json::object{{"error", error.message}});
    if (error.code == core::ErrorCode::too_many_requests ||
        (error.code == core::ErrorCode::unavailable && error.retry_after_seconds > 0)) {
        res.headers.emplace_back("Retry-After",
                                 std::to_string(std::max(1, error.retry_after_seconds)));
    }
    return res;
}

}  // namespace msg::transport
