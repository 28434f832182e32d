#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "transport/server_impl.hpp"

namespace msg::transport {

namespace {

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

}  // namespace

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
    request.content_type = std::string(req[http::field::content_type]);
    request.remote_ip = peer;
    const bool expect_continue = beast::iequals(req[http::field::expect], "100-continue");
    BeastStreamIo io(stream, buffer, parser, o, expect_continue);
    try {
        co_await route.handler(request, io);
    } catch (const std::exception& e) {
        log.info("stream request ended early path={} error=\"{}\"", request.path, e.what());
    }
}

}  // namespace msg::transport
