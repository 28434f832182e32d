#include <boost/asio/co_spawn.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "transport/pipeline.hpp"
#include "transport/server_impl.hpp"
#include "transport/ws_session.hpp"

namespace msg::transport {

asio::awaitable<void> serve_connection(tcp::socket socket, std::shared_ptr<HttpServer::Impl> s,
                                       std::unique_ptr<AddressSlots::Slot> slot) {
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
            co_await answer_parse_error(stream, hec, o);
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
            // Declared over the limit: answered as the parser answers a body past it.
            co_await answer_parse_error(stream, http::error::body_limit, o);
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
            co_await answer_parse_error(stream, bec, o);
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
                // The socket goes on in a coroutine of its own and this frame (the HTTP
                // loop's parser, buffers and request, ~2.3 KB) ends now rather than living as
                // long as the socket. The connection stays counted until that one ends.
                ++s->connections;
                auto ex = stream.get_executor();
                asio::co_spawn(
                    ex,
                    serve_websocket(std::move(stream), std::move(message), route, s->pipeline,
                                    std::move(request), s->options.ws, s->websockets),
                    [s, slot = std::shared_ptr<AddressSlots::Slot>(std::move(slot))](
                        const std::exception_ptr&) {
                        --s->connections;  // the address's slot goes with the handler
                    });
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

}  // namespace msg::transport
