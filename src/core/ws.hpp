#pragma once

// The WebSocket vocabulary shared by domain modules and the transport. No Beast here: the
// transport implements WsConnection, a domain module implements WsSession.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "core/http.hpp"
#include "core/task.hpp"

namespace msg::core {

using Frame = std::shared_ptr<const std::string>;

/// The server side of one socket. Thread-safe: send() and close() may be called from any
/// thread (bus deliveries arrive on other threads); they post to the socket's own thread.
class WsConnection {
  public:
    virtual ~WsConnection() = default;
    /// Queues a text frame for the socket's single writer. When the queue is over its bound
    /// (a slow consumer) the socket is closed with 1013 instead; the caller never waits.
    virtual void send(Frame frame) = 0;
    virtual void close(unsigned short code, std::string reason) = 0;
    virtual std::uint64_t id() const = 0;
};

/// Handles one socket's frames. Created by a WsRoute after the handshake checks passed; all
/// calls come from the socket's own thread, one at a time.
class WsSession {
  public:
    virtual ~WsSession() = default;
    virtual Task<void> on_open() = 0;
    virtual Task<void> on_text(std::string text) = 0;
    virtual void on_close() = 0;
};

/// A WebSocket endpoint. `accept` runs before the upgrade with the authenticated request: an
/// Error becomes the HTTP answer (no upgrade happens).
struct WsRoute {
    std::string path;
    std::function<Task<Result<std::shared_ptr<WsSession>>>(HttpRequest&,
                                                           std::shared_ptr<WsConnection>)>
        accept;
};

}  // namespace msg::core
