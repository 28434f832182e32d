#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "core/http_client.hpp"

namespace msg::transport {

/// core::HttpClient over Beast: plain `http://` URLs, a deadline over the whole exchange, a
/// bounded response body. Runs on the executor of the calling coroutine.
///
/// Without keep-alive each request has a connection of its own (callers are internal services
/// on a private network). With it, a connection whose response allowed it is kept for the next
/// request to the same host and port from the same event loop, for at most `idle_timeout`
/// (less than a server's keep-alive wait, ours is 60 s). Before a kept connection is used it is
/// checked for a close its peer already sent (a restarted or killed server): such a connection
/// is dropped and a new one made, so a request never goes out on a connection known dead — a
/// refused new connection is then `NotSentException` as without keep-alive.
class BeastHttpClient final : public core::HttpClient {
  public:
    struct Options {
        std::size_t max_response_bytes = 8 * 1024 * 1024;
        bool keep_alive = false;
        std::size_t max_idle_per_target = 16;
        std::chrono::milliseconds idle_timeout{5'000};
    };

    explicit BeastHttpClient(std::size_t max_response_bytes = 8 * 1024 * 1024);
    explicit BeastHttpClient(Options options);
    ~BeastHttpClient() override;

    core::Task<core::ClientResponse> send(const core::ClientRequest& request) override;

    /// Connections made so far (a test sees reuse by this not growing).
    std::size_t connections_made() const;

  private:
    struct Idle;
    Options options_;
    std::unique_ptr<Idle> idle_;
};

}  // namespace msg::transport
