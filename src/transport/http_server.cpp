#include "transport/http_server.hpp"

#include <spdlog/logger.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <stdexcept>

#include "core/log.hpp"
#include "transport/pipeline.hpp"
#include "transport/ws_session.hpp"

namespace msg::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct HttpServer::Impl {
    Impl(std::vector<asio::io_context*> c, Pipeline& p, ServerOptions o)
        : contexts(std::move(c)),
          pipeline(p),
          options(std::move(o)),
          acceptor(*contexts.at(0)),
          log(core::logger("http")) {}

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
    std::atomic<std::size_t> websockets{0};
    std::vector<core::WsRoute> ws_routes;
    std::vector<core::StreamRoute> stream_routes;
    WsOptions ws_options;
};

namespace {

core::Method to_method(http::verb v) {
    switch (v) {
        case http::verb::get:
            return core::Method::get;
        case http::verb::head:
            return core::Method::head;
        case http::verb::post:
            return core::Method::post;
        case http::verb::put:
            return core::Method::put;
        case http::verb::patch:
            return core::Method::patch;
        case http::verb::delete_:
            return core::Method::del;
        case http::verb::options:
            return core::Method::options;
        default:
            return core::Method::other;
    }
}

bool is_trusted(const ServerOptions& o, const std::string& ip) {
    for (const auto& t : o.trusted_proxies) {
        if (t == ip) return true;
    }
    return false;
}

/// The client address: the peer, unless the peer is a trusted proxy, then the nearest
/// X-Forwarded-For hop that is not itself a trusted proxy.
std::string client_ip(const ServerOptions& o, const std::string& peer, std::string_view xff) {
    if (xff.empty() || !is_trusted(o, peer)) return peer;
    std::string candidate = peer;
    while (!xff.empty()) {
        auto comma = xff.rfind(',');
        std::string_view hop = comma == std::string_view::npos ? xff : xff.substr(comma + 1);
        xff = comma == std::string_view::npos ? std::string_view{} : xff.substr(0, comma);
        while (!hop.empty() && hop.front() == ' ') hop.remove_prefix(1);
        while (!hop.empty() && hop.back() == ' ') hop.remove_suffix(1);
        if (hop.empty()) break;
        candidate = std::string(hop);
        if (!is_trusted(o, candidate)) break;
    }
    return candidate.size() <= 64 ? candidate : peer;
}

core::HttpRequest to_request(http::request<http::string_body>& in, const ServerOptions& o,
                             const std::string& peer) {
    core::HttpRequest r;
    r.method = to_method(in.method());
    std::string_view target = in.target();
    auto q = target.find('?');
    r.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
    r.authorization = std::string(in[http::field::authorization]);
    r.user_agent = std::string(in[http::field::user_agent].substr(0, 512));
    r.origin = std::string(in[http::field::origin]);
    r.host = std::string(in[http::field::host].substr(0, 256));
    r.request_id = std::string(in["X-Request-Id"]);
    r.remote_ip = client_ip(o, peer, in["X-Forwarded-For"]);
    r.body = std::move(in.body());
    return r;
}

bool header_safe(std::string_view v) { return v.find_first_of("\r\n") == std::string_view::npos; }

/// Serializes a response into one flat buffer: one write per response, none of the Beast
/// serializer's buffer-sequence machinery (it was ~8% of a /health request's CPU). Header
/// values with CR/LF are dropped, so nothing a client sent can inject a header.
std::string serialize(core::HttpResponse&& in, unsigned version, bool keep_alive, bool head) {
    std::string out;
    out.reserve(192 + in.body.size());
    out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    out += std::to_string(in.status);
    out += ' ';
    out += http::obsolete_reason(static_cast<http::status>(in.status));
    out += "\r\nServer: msg_server\r\n";
    const bool bodiless = in.status == 204 || in.status == 304 || in.status < 200;
    if (!bodiless) {
        out += "Content-Type: ";
        out += in.content_type;
        out += "\r\nContent-Length: ";
        out += std::to_string(in.body.size());
        out += "\r\n";
    }
    for (const auto& [k, v] : in.headers) {
        if (!header_safe(k) || !header_safe(v)) continue;
        out += k;
        out += ": ";
        out += v;
        out += "\r\n";
    }
    if (version == 10 && keep_alive) out += "Connection: keep-alive\r\n";
    if (version != 10 && !keep_alive) out += "Connection: close\r\n";
    out += "\r\n";
    if (!head && !bodiless) out += in.body;
    return out;
}

/// Answers a request the parser refused, then closes gracefully: shut down our side and
/// drain (a bounded amount of) what the client is still sending, so it reads the answer
/// instead of a connection reset ("lingering close", as nginx does).
asio::awaitable<void> write_error(beast::tcp_stream& stream, unsigned status,
                                  std::string_view message, const ServerOptions& o) {
    core::HttpResponse res{
        status, R"({"error":")" + std::string(message) + R"("})", "application/json", {}};
    auto out = serialize(std::move(res), 11, false, false);
    stream.expires_after(o.write_timeout);
    auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(out), kTuple);
    if (wec) co_return;
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    constexpr std::size_t kDrainLimit = 8 * 1024 * 1024;
    std::array<char, 16 * 1024> sink;
    std::size_t drained = 0;
    stream.expires_after(std::chrono::seconds(2));
    while (drained < kDrainLimit) {
        auto [rec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
        if (rec) break;
        drained += n;
    }
}

/// core::StreamIo over the connection: the body through a buffer_body parser (so nothing is
/// buffered whole), the response as raw bytes with a Content-Length (the connection closes
/// after a streamed exchange).
class BeastStreamIo final : public core::StreamIo {
  public:
    BeastStreamIo(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                  http::request_parser<http::buffer_body>& parser, const ServerOptions& o,
                  bool expect_continue)
        : stream_(stream),
          buffer_(buffer),
          parser_(parser),
          o_(o),
          expect_continue_(expect_continue),
          deadline_(std::chrono::steady_clock::now() + o.stream_deadline) {}

    core::Task<std::size_t> read_some(char* data, std::size_t max) override {
        if (expect_continue_) {  // curl and browsers wait for this before a large body
            expect_continue_ = false;
            static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
            stream_.expires_after(o_.write_timeout);
            auto [wec, wn] = co_await asio::async_write(
                stream_, asio::buffer(kContinue.data(), kContinue.size()), kTuple);
            if (wec) throw boost::system::system_error(wec);
        }
        while (!parser_.is_done()) {
            parser_.get().body().data = data;
            parser_.get().body().size = max;
            // Each read has the read timeout, and the whole body the stream deadline: a client
            // trickling a byte per read timeout cannot hold the connection for hours.
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline_) throw std::runtime_error("streamed body past its deadline");
            stream_.expires_at(std::min(now + o_.read_timeout, deadline_));
            auto [ec, n] = co_await http::async_read_some(stream_, buffer_, parser_, kTuple);
            if (ec && ec != http::error::need_buffer) throw boost::system::system_error(ec);
            const std::size_t got = max - parser_.get().body().size;
            if (got > 0) co_return got;
        }
        co_return 0;
    }

    core::Task<void> write_head(unsigned status, std::string_view content_type,
                                std::uint64_t content_length, bool attachment) override {
        std::string head = "HTTP/1.1 " + std::to_string(status) + " " +
                           std::string(http::obsolete_reason(static_cast<http::status>(status))) +
                           "\r\nServer: msg_server\r\nConnection: close\r\nContent-Type: " +
                           std::string(content_type) +
                           "\r\nContent-Length: " + std::to_string(content_length) +
                           "\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store"
                           "\r\nReferrer-Policy: no-referrer\r\n";
        if (attachment) head += "Content-Disposition: attachment\r\n";
        head += "\r\n";
        stream_.expires_after(o_.write_timeout);
        auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(head), kTuple);
        if (ec) throw boost::system::system_error(ec);
    }

    core::Task<void> write(std::string_view chunk) override {
        stream_.expires_after(o_.write_timeout);
        auto [ec, n] =
            co_await asio::async_write(stream_, asio::buffer(chunk.data(), chunk.size()), kTuple);
        if (ec) throw boost::system::system_error(ec);
    }

  private:
    beast::tcp_stream& stream_;
    beast::flat_buffer& buffer_;
    http::request_parser<http::buffer_body>& parser_;
    const ServerOptions& o_;
    bool expect_continue_;
    std::chrono::steady_clock::time_point deadline_;
};

asio::awaitable<void> serve_stream(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                   http::request_parser<http::string_body>& header_parser,
                                   const core::StreamRoute& route, const ServerOptions& o,
                                   const std::string& peer, spdlog::logger& log) {
    http::request_parser<http::buffer_body> parser{std::move(header_parser)};
    parser.body_limit(boost::none);  // the handler bounds what it accepts
    const auto& req = parser.get();
    core::StreamRequest request;
    request.method = to_method(req.method());
    const std::string_view target(req.target().data(), req.target().size());
    const auto q = target.find('?');
    request.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) request.query = std::string(target.substr(q + 1));
    if (auto len = parser.content_length()) request.content_length = *len;
    request.remote_ip = peer;
    const bool expect_continue = beast::iequals(req[http::field::expect], "100-continue");
    BeastStreamIo io(stream, buffer, parser, o, expect_continue);
    try {
        co_await route.handler(request, io);
    } catch (const std::exception& e) {
        log.info("stream request ended early path={} error=\"{}\"", request.path, e.what());
    }
}

asio::awaitable<void> serve_connection(tcp::socket socket, std::shared_ptr<HttpServer::Impl> s) {
    struct ConnectionCount {
        std::atomic<std::size_t>& n;
        ~ConnectionCount() { --n; }
    } count{s->connections};

    boost::system::error_code ec;
    const auto peer_ep = socket.remote_endpoint(ec);
    const std::string peer = ec ? std::string("unknown") : peer_ep.address().to_string();
    socket.set_option(tcp::no_delay(true), ec);

    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    const ServerOptions& o = s->options;

    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(o.header_limit));
        // No body limit while reading the header: streamed routes take large bodies. Buffered
        // requests get body_limit below, before any body octet is parsed.
        parser.body_limit(boost::none);

        stream.expires_after(o.idle_timeout);
        auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, kTuple);
        if (hec) {
            if (hec == http::error::header_limit) {
                co_await write_error(stream, 431, "request headers too large", o);
            } else if (hec == http::error::body_limit) {  // Content-Length over the limit
                co_await write_error(stream, 413, "request body too large", o);
            } else if (hec.category() ==
                           http::make_error_code(http::error::end_of_stream).category() &&
                       hec != http::error::end_of_stream && hec != http::error::partial_message) {
                co_await write_error(stream, 400, "malformed request", o);
            }
            break;
        }
        {
            const auto target = parser.get().target();
            const core::StreamRoute* streamed = nullptr;
            for (const auto& route : s->stream_routes) {
                if (std::string_view(target.data(), target.size()).starts_with(route.prefix)) {
                    streamed = &route;
                }
            }
            if (streamed) {
                ++s->in_flight;
                co_await serve_stream(stream, buffer, parser, *streamed, o, peer, *s->log);
                --s->in_flight;
                break;  // a streamed exchange closes the connection
            }
        }
        if (parser.content_length() && *parser.content_length() > o.body_limit) {
            co_await write_error(stream, 413, "request body too large", o);
            break;
        }
        parser.body_limit(o.body_limit);
        boost::system::error_code bec;
        if (!parser.is_done()) {
            stream.expires_after(o.read_timeout);
            auto [read_ec, bn] = co_await http::async_read(stream, buffer, parser, kTuple);
            bec = read_ec;
        }
        if (bec) {
            if (bec == http::error::body_limit) {
                co_await write_error(stream, 413, "request body too large", o);
            } else if (bec.category() ==
                           http::make_error_code(http::error::end_of_stream).category() &&
                       bec != http::error::end_of_stream && bec != http::error::partial_message) {
                co_await write_error(stream, 400, "malformed request", o);
            }
            break;
        }

        auto message = parser.release();
        const unsigned version = message.version();
        const bool head = message.method() == http::verb::head;
        bool keep_alive = message.keep_alive() && !s->draining.load();
        core::HttpRequest request = to_request(message, o, peer);

        if (beast::websocket::is_upgrade(message)) {
            for (const auto& route : s->ws_routes) {
                if (route.path != request.path) continue;
                // This frame lives as long as the socket: give the HTTP read buffer back.
                buffer.clear();
                buffer.shrink_to_fit();
                co_await serve_websocket(std::move(stream), std::move(message), route, s->pipeline,
                                         std::move(request), s->ws_options, s->websockets);
                co_return;
            }
        }

        ++s->in_flight;
        core::HttpResponse response = co_await s->pipeline.handle(request);
        --s->in_flight;

        keep_alive = keep_alive && !s->draining.load();
        auto out = serialize(std::move(response), version, keep_alive, head);
        stream.expires_after(o.write_timeout);
        auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(out), kTuple);
        if (wec || !keep_alive) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> accept_loop(std::shared_ptr<HttpServer::Impl> s) {
    for (;;) {
        tcp::socket socket(s->next_context());
        auto [ec] = co_await s->acceptor.async_accept(socket, kTuple);
        if (ec) {
            if (ec == asio::error::operation_aborted || !s->acceptor.is_open()) co_return;
            // EMFILE and friends: log and keep going rather than spin.
            s->log->warn("accept failed error=\"{}\"", ec.message());
            continue;
        }
        if (s->connections.load() >= s->options.max_connections) {
            s->log->warn("connection refused reason=max_connections limit={}",
                         s->options.max_connections);
            continue;  // socket closes here
        }
        ++s->connections;
        auto ex = socket.get_executor();
        asio::co_spawn(ex, serve_connection(std::move(socket), s), asio::detached);
    }
}

}  // namespace

HttpServer::HttpServer(std::vector<asio::io_context*> contexts, Pipeline& pipeline,
                       ServerOptions options)
    : impl_(std::make_shared<Impl>(std::move(contexts), pipeline, std::move(options))) {
    auto& o = impl_->options;
    impl_->ws_options = WsOptions{
        o.ws_frame_limit,       o.ws_queue_limit,      o.ws_ping_interval,     o.ws_idle_timeout,
        o.ws_frames_per_second, o.ws_bytes_per_second, o.ws_socket_send_buffer};
}

HttpServer::~HttpServer() = default;

unsigned short HttpServer::start() {
    auto& a = impl_->acceptor;
    tcp::endpoint ep(asio::ip::make_address(impl_->options.address), impl_->options.port);
    a.open(ep.protocol());
    a.set_option(asio::socket_base::reuse_address(true));
    a.bind(ep);
    a.listen(asio::socket_base::max_listen_connections);
    asio::co_spawn(a.get_executor(), accept_loop(impl_), asio::detached);
    return a.local_endpoint().port();
}

void HttpServer::stop_accepting() {
    impl_->draining = true;
    asio::post(impl_->acceptor.get_executor(), [impl = impl_] {
        boost::system::error_code ec;
        impl->acceptor.close(ec);
    });
}

std::size_t HttpServer::in_flight() const { return impl_->in_flight.load(); }
std::size_t HttpServer::connections() const { return impl_->connections.load(); }
std::size_t HttpServer::websockets() const { return impl_->websockets.load(); }

void HttpServer::add_ws_route(core::WsRoute route) { impl_->ws_routes.push_back(std::move(route)); }

void HttpServer::add_stream_route(core::StreamRoute route) {
    impl_->stream_routes.push_back(std::move(route));
}

}  // namespace msg::transport
