#pragma once

// Internal to transport: runs an upgraded connection. Includes Beast; never include it from
// outside src/transport.

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <vector>

#include "core/task.hpp"
#include "core/ws.hpp"

namespace msg::transport {

class Pipeline;

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

/// Handshake checks (Origin, token from the Authorization header or `access_token`/`token`
/// query, the route's own accept), then the upgrade; then one reader loop feeding the session
/// and one writer draining the bounded queue, until either side ends.
core::Task<void> serve_websocket(boost::beast::tcp_stream stream,
                                 boost::beast::http::request<boost::beast::http::string_body> req,
                                 const core::WsRoute& route, Pipeline& pipeline,
                                 core::HttpRequest request, const WsOptions& options,
                                 std::atomic<std::size_t>& open_sockets);

}  // namespace msg::transport
