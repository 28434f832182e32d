#pragma once

// Outgoing HTTP (Milvus, an embedding endpoint, vectorman): an interface without Beast, so
// domain modules can call services and tests can hand them a real server on loopback.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/http.hpp"
#include "core/task.hpp"

namespace msg::core {

/// An outgoing request that never left: the peer could not be resolved or connected to. Unlike
/// a failure after sending, the peer cannot have acted on it, so any request may go elsewhere.
class NotSentException : public UnavailableException {
  public:
    using UnavailableException::UnavailableException;
};

struct ClientRequest {
    Method method = Method::post;
    std::string url;  // http://host[:port]/path[?query]
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string content_type = "application/json";
    std::chrono::milliseconds timeout{4000};  // the whole exchange
};

struct ClientResponse {
    unsigned status = 0;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-case

    /// The first header of that (lower-case) name, or "".
    std::string_view header(std::string_view name) const {
        for (const auto& [n, v] : headers) {
            if (n == name) return v;
        }
        return {};
    }
};

/// send() returns any HTTP answer (the caller judges the status); it throws
/// UnavailableException when there is none: unreachable, timed out, malformed, too large —
/// NotSentException (a subclass) when the request cannot have reached the peer (a bad URL,
/// resolve or connect failed).
class HttpClient {
  public:
    virtual ~HttpClient() = default;
    virtual Task<ClientResponse> send(const ClientRequest& request) = 0;
};

}  // namespace msg::core
