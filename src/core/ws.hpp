#pragma once

// The WebSocket vocabulary shared by domain modules and the transport. No Beast here: the
// transport implements WsConnection, a domain module implements WsSession.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/json/fwd.hpp>

#include "core/error.hpp"
#include "core/http.hpp"
#include "core/task.hpp"

namespace msg::core {

using Frame = std::shared_ptr<const std::string>;

/// A JSON value serialized once into a frame (or bus payload) shared by every recipient.
Frame json_frame(const boost::json::value& v);

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
    /// Runs before the upgrade answer is sent: subscriptions made here are in place when the
    /// client sees the socket open. Frames sent here are delivered after the handshake.
    virtual Task<void> on_open() = 0;
    virtual Task<void> on_text(std::string text) = 0;
    /// Always called once after on_open, also when the handshake then fails.
    virtual void on_close() = 0;
};

/// A WebSocket endpoint. `accept` runs before the upgrade: an Error becomes the HTTP answer (no
/// upgrade happens). The transport checks the Origin for every route; with
/// Access::authenticated it also verifies the JWT and sets the request's principal, with
/// Access::open `accept` does its own authentication (the device-session socket).
struct WsRoute {
    std::string path;
    std::function<Task<Result<std::shared_ptr<WsSession>>>(HttpRequest&,
                                                           std::shared_ptr<WsConnection>)>
        accept;
    Access access = Access::authenticated;
};

/// Told when a user's socket (chat or session) opens and closes: automatic presence counts
/// them. Calls come from I/O threads and must not block.
class PresenceObserver {
  public:
    virtual ~PresenceObserver() = default;
    virtual void socket_opened(const std::string& tenant_id, std::int64_t user_id) = 0;
    virtual void socket_closed(const std::string& tenant_id, std::int64_t user_id) = 0;
};

}  // namespace msg::core
