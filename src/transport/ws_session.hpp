#pragma once

// Internal to transport: runs an upgraded connection. Includes Beast; never include it from
// outside src/transport.

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/task.hpp"
#include "core/ws.hpp"
#include "transport/http_server.hpp"

namespace msg::transport {

class Pipeline;

/// The server's open WebSockets (after the upgrade), so that a shutdown closes each with 1001
/// and clients reconnect to another node and resume. Thread-safe.
class OpenSockets {
  public:
    void add(const std::shared_ptr<core::WsConnection>& socket);
    void remove(std::uint64_t id);
    std::size_t size() const;
    void close_all(unsigned short code, const std::string& reason);

  private:
    mutable std::mutex mutex_;
    std::unordered_map<std::uint64_t, std::weak_ptr<core::WsConnection>> sockets_;
};

/// Handshake checks (Origin, token from the Authorization header or `access_token`/`token`
/// query, the route's own accept), then the upgrade; then one reader loop feeding the session
/// and one writer draining the bounded queue, until either side ends.
core::Task<void> serve_websocket(boost::beast::tcp_stream stream,
                                 boost::beast::http::request<boost::beast::http::string_body> req,
                                 const core::WsRoute& route, Pipeline& pipeline,
                                 core::HttpRequest request, const WsOptions& options,
                                 OpenSockets& open_sockets);

}  // namespace msg::transport
