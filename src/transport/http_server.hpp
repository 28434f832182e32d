#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/stream.hpp"
#include "core/ws.hpp"

namespace boost::asio {
class io_context;
}

namespace msg::transport {

class Pipeline;

/// One WebSocket's limits (the one place their defaults are written).
struct WsOptions {
    std::size_t frame_limit = 64 * 1024;  // larger frames close the socket with 1009
    std::size_t queue_limit = 1024;       // frames queued for a slow reader → 1013
    std::chrono::seconds ping_interval{30};
    std::chrono::seconds idle_timeout{90};  // nothing received (pongs count) → dropped
    /// What one socket may send: frames and bytes per second, with a burst of two seconds'
    /// worth. Past it the reader pauses (TCP pushes back on the sender); 0: unlimited.
    double frames_per_second = 50;
    double bytes_per_second = 256 * 1024;
    /// Kernel send buffer per socket. Without a cap Linux autotunes up to 4 MiB, which is
    /// memory per slow client and hides a stalled reader behind megabytes of backlog.
    int socket_send_buffer = 256 * 1024;
};

struct ServerOptions {
    std::string address = "0.0.0.0";
    unsigned short port = 8080;                 // 0 = any free port (start() returns it)
    std::size_t header_limit = 16 * 1024;       // → 431
    std::size_t body_limit = 1024 * 1024;       // → 413
    std::chrono::seconds read_timeout{15};      // one request, headers + body
    std::chrono::seconds idle_timeout{60};      // keep-alive wait between requests
    std::chrono::seconds stream_deadline{900};  // a whole streamed body (/blobs uploads)
    std::chrono::seconds write_timeout{15};
    std::size_t max_connections = 18'000;  // below the sandbox's 20k open-file cap
    /// Open connections (WebSockets included) one client address may hold (IPv6: one /64);
    /// more are closed on accept. Trusted proxies are not limited. 0: no limit.
    std::size_t max_connections_per_address = 1'000;
    /// Peers whose X-Forwarded-For is believed (exact addresses).
    std::vector<std::string> trusted_proxies;
    WsOptions ws;
};

/// HTTP/1.1 on Boost.Beast: one coroutine per connection, keep-alive, pipelined requests
/// answered in order, limits and timeouts from ServerOptions.
///
/// Threading: one io_context per I/O thread. The acceptor runs on the first; each accepted
/// connection is pinned round-robin to one context and lives there, so its coroutine, socket
/// and timers are only ever touched by one thread: no strand, no locks on the hot path.
class HttpServer {
  public:
    HttpServer(std::vector<boost::asio::io_context*> contexts, Pipeline& pipeline,
               ServerOptions options);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// A WebSocket endpoint (exact path); call before start().
    void add_ws_route(core::WsRoute route);
    /// Requests under a path prefix whose bodies are streamed (core/stream.hpp); call before
    /// start(). They bypass the pipeline: the handler authenticates (signed URLs).
    void add_stream_route(core::StreamRoute route);

    /// Binds, listens and starts accepting; returns the bound port.
    unsigned short start();
    /// Stops accepting; open connections finish their current request and close.
    void stop_accepting();

    std::size_t in_flight() const;    // requests inside the pipeline now
    std::size_t connections() const;  // open connections
    std::size_t websockets() const;   // open WebSockets
    /// Closes every open WebSocket with `code` (a shutdown: 1001, clients reconnect elsewhere).
    void close_websockets(unsigned short code, const std::string& reason);

    struct Impl;  // public: listener, http_session and stream_io share it (server_impl.hpp)

  private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace msg::transport
