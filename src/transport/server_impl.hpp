#pragma once

// Internal to transport (Beast): what the listener, the HTTP session, the wire helpers and
// the streamed-body I/O share. Never include it from outside src/transport.

#include <spdlog/logger.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/http.hpp"
#include "core/log.hpp"
#include "core/stream.hpp"
#include "transport/http_server.hpp"
#include "transport/ws_session.hpp"

namespace msg::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
inline constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

/// Open connections per client address (core::rate_key_for_ip: IPv6 per /64). A slot is
/// taken on accept and given back when the connection, or the WebSocket it became, ends.
class AddressSlots : public std::enable_shared_from_this<AddressSlots> {
  public:
    /// One open connection of an address; destroying it gives the slot back.
    class Slot {
      public:
        Slot(std::shared_ptr<AddressSlots> owner, std::string key)
            : owner_(std::move(owner)), key_(std::move(key)) {}
        ~Slot();
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;

      private:
        std::shared_ptr<AddressSlots> owner_;
        std::string key_;
    };

    explicit AddressSlots(std::size_t limit) : limit_(limit) {}
    /// A slot of `key`, or null when the address already holds `limit` connections.
    std::unique_ptr<Slot> take(const std::string& key);

  private:
    std::size_t limit_;
    std::mutex mutex_;
    std::unordered_map<std::string, std::size_t> open_;
};

struct HttpServer::Impl {
    Impl(std::vector<asio::io_context*> c, Pipeline& p, ServerOptions o)
        : contexts(std::move(c)),
          pipeline(p),
          options(std::move(o)),
          acceptor(*contexts.at(0)),
          log(core::logger("http")),
          address_slots(std::make_shared<AddressSlots>(options.max_connections_per_address)) {}

    asio::io_context& next_context() {
        return *contexts[next.fetch_add(1, std::memory_order_relaxed) % contexts.size()];
    }

    std::vector<asio::io_context*> contexts;
    std::atomic<std::size_t> next{0};
    Pipeline& pipeline;
    ServerOptions options;
    tcp::acceptor acceptor;
    std::shared_ptr<spdlog::logger> log;
    std::atomic<bool> draining{false};
    std::atomic<std::size_t> in_flight{0};
    std::atomic<std::size_t> connections{0};
    std::shared_ptr<AddressSlots> address_slots;
    OpenSockets websockets;
    std::vector<core::WsRoute> ws_routes;
    std::vector<core::StreamRoute> stream_routes;
};

// http_session.cpp: one connection, request after request; `slot` (null: not limited) is
// held until the connection ends.
asio::awaitable<void> serve_connection(tcp::socket socket, std::shared_ptr<HttpServer::Impl> s,
                                       std::unique_ptr<AddressSlots::Slot> slot);

// wire.cpp: Beast messages <-> core::HttpRequest/HttpResponse.
core::Method to_method(http::verb v);
/// The client address: the peer, unless the peer is a trusted proxy, then the nearest
/// X-Forwarded-For hop that is not itself a trusted proxy.
std::string client_ip(const ServerOptions& o, const std::string& peer, std::string_view xff);
bool is_trusted_proxy(const ServerOptions& o, const std::string& peer);
core::HttpRequest to_request(http::request<http::string_body>& in, const ServerOptions& o,
                             const std::string& peer);
/// Serializes a response into one flat buffer: one write per response, none of the Beast
/// serializer's buffer-sequence machinery (it was ~8% of a /health request's CPU). Header
/// values with CR/LF are dropped, so nothing a client sent can inject a header.
std::string serialize(core::HttpResponse&& in, unsigned version, bool keep_alive, bool head);
/// The one mapping of a parser failure to an answer: 431 headers too large, 413 body too
/// large (declared or read), 400 malformed; nullopt when the client just went away (end of
/// stream, a torn message, a timeout) and nothing should be written.
struct ParseErrorAnswer {
    unsigned status;
    std::string_view message;
};
std::optional<ParseErrorAnswer> parse_error_answer(const boost::system::error_code& ec);
/// Answers a request the parser refused, then closes gracefully: shut down our side and
/// drain (a bounded amount of) what the client is still sending, so it reads the answer
/// instead of a connection reset ("lingering close", as nginx does).
asio::awaitable<void> write_error(beast::tcp_stream& stream, unsigned status,
                                  std::string_view message, const ServerOptions& o);
/// parse_error_answer(), written with write_error() when there is one.
asio::awaitable<void> answer_parse_error(beast::tcp_stream& stream,
                                         const boost::system::error_code& ec,
                                         const ServerOptions& o);

// stream_io.cpp: streamed bodies (core/stream.hpp routes).
asio::awaitable<void> serve_stream(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                   http::request_parser<http::string_body>& header_parser,
                                   const core::StreamRoute& route, const ServerOptions& o,
                                   const std::string& peer, spdlog::logger& log);

}  // namespace msg::transport
