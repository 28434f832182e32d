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
#include "transport/http_server.hpp"

namespace msg::transport {

class Pipeline;

/// Handshake checks (Origin, token from the Authorization header or `access_token`/`token`
/// query, the route's own accept), then the upgrade; then one reader loop feeding the session
/// and one writer draining the bounded queue, until either side ends.
core::Task<void> serve_websocket(boost::beast::tcp_stream stream,
                                 boost::beast::http::request<boost::beast::http::string_body> req,
                                 const core::WsRoute& route, Pipeline& pipeline,
                                 core::HttpRequest request, const WsOptions& options,
                                 std::atomic<std::size_t>& open_sockets);

}  // namespace msg::transport
