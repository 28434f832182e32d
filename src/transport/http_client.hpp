#pragma once

#include <cstddef>

#include "core/http_client.hpp"

namespace msg::transport {

/// core::HttpClient over Beast: plain `http://` URLs, one connection per request (callers are
/// internal services on a private network), a deadline over the whole exchange, a bounded
/// response body. Runs on the executor of the calling coroutine.
class BeastHttpClient final : public core::HttpClient {
  public:
    explicit BeastHttpClient(std::size_t max_response_bytes = 8 * 1024 * 1024)
        : max_response_bytes_(max_response_bytes) {}
    core::Task<core::ClientResponse> send(const core::ClientRequest& request) override;

  private:
    std::size_t max_response_bytes_;
};

}  // namespace msg::transport
