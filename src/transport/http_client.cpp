#include "transport/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <string_view>

#include "core/error.hpp"

namespace msg::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

struct Target {
    std::string host;
    std::string port = "80";
    std::string path = "/";
};

Target parse_url(std::string_view url) {
    constexpr std::string_view kScheme = "http://";
    if (!url.starts_with(kScheme)) {
        throw core::NotSentException("only http:// URLs are supported: " + std::string(url));
    }
    url.remove_prefix(kScheme.size());
    Target t;
    const auto slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    if (slash != std::string_view::npos) t.path = std::string(url.substr(slash));
    if (authority.starts_with('[')) {  // [::1]:port
        const auto close = authority.find(']');
        if (close == std::string_view::npos) throw core::NotSentException("bad URL host");
        t.host = std::string(authority.substr(1, close - 1));
        authority.remove_prefix(close + 1);
        if (authority.starts_with(':')) t.port = std::string(authority.substr(1));
    } else {
        const auto colon = authority.rfind(':');
        t.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) t.port = std::string(authority.substr(colon + 1));
    }
    unsigned port = 0;
    auto [p, ec] = std::from_chars(t.port.data(), t.port.data() + t.port.size(), port);
    if (t.host.empty() || ec != std::errc{} || p != t.port.data() + t.port.size() || port == 0 ||
        port > 65535) {
        throw core::NotSentException("bad URL: " + std::string(url));
    }
    return t;
}

http::verb verb_of(core::Method m) {
    switch (m) {
        case core::Method::get:
            return http::verb::get;
        case core::Method::head:
            return http::verb::head;
        case core::Method::put:
            return http::verb::put;
        case core::Method::patch:
            return http::verb::patch;
        case core::Method::del:
            return http::verb::delete_;
        default:
            return http::verb::post;
    }
}

void check(const beast::error_code& ec, std::string_view step, const Target& t) {
    if (ec) {
        throw core::UnavailableException(std::string(step) + " " + t.host + ":" + t.port + ": " +
                                         ec.message());
    }
}

/// Resolve and connect: a failure there means the request never left.
void check_not_sent(const beast::error_code& ec, std::string_view step, const Target& t) {
    if (ec) {
        throw core::NotSentException(std::string(step) + " " + t.host + ":" + t.port + ": " +
                                     ec.message());
    }
}

}  // namespace

core::Task<core::ClientResponse> BeastHttpClient::send(const core::ClientRequest& request) {
    const Target target = parse_url(request.url);
    auto executor = co_await asio::this_coro::executor;
    asio::ip::tcp::resolver resolver(executor);
    beast::tcp_stream stream(executor);
    stream.expires_after(request.timeout);  // one deadline for resolve, connect, write, read

    constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
    auto [rec, endpoints] = co_await resolver.async_resolve(target.host, target.port, kNoThrow);
    check_not_sent(rec, "resolve", target);
    auto [cec, connected] = co_await stream.async_connect(endpoints, kNoThrow);
    check_not_sent(cec, "connect", target);

    http::request<http::string_body> req{verb_of(request.method), target.path, 11};
    req.set(http::field::host, target.host);
    req.set(http::field::user_agent, "msg_server");
    if (!request.body.empty() || request.method == core::Method::post ||
        request.method == core::Method::put) {
        req.set(http::field::content_type, request.content_type);
        req.body() = request.body;
        req.prepare_payload();
    }
    for (const auto& [name, value] : request.headers) req.set(name, value);
    auto [wec, written] = co_await http::async_write(stream, req, kNoThrow);
    check(wec, "write", target);

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_response_bytes_);
    if (request.method == core::Method::head) parser.skip(true);
    auto [ec, read] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    check(ec, "read", target);
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    auto& res = parser.get();
    core::ClientResponse out;
    out.status = res.result_int();
    out.body = std::move(res.body());
    for (const auto& field : res) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    co_return out;
}

}  // namespace msg::transport
