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
    /// Peers whose X-Forwarded-For is believed (exact addresses).
    std::vector<std::string> trusted_proxies;
    // WebSocket
    std::size_t ws_frame_limit = 64 * 1024;  // → close 1009
    std::size_t ws_queue_limit = 1024;       // frames waiting for a slow reader → close 1013
    std::chrono::seconds ws_ping_interval{30};
    std::chrono::seconds ws_idle_timeout{90};
    double ws_frames_per_second = 50;        // per socket; 0: unlimited
    double ws_bytes_per_second = 262144;     // per socket; 0: unlimited
    int ws_socket_send_buffer = 256 * 1024;  // bytes; caps kernel memory per socket
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

    struct Impl;  // public so the connection coroutines in the .cpp can share it

  private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace msg::transport
