#include "transport/http_client.hpp"

#include <sys/socket.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <cerrno>
#include <charconv>
#include <map>
#include <mutex>
#include <string_view>
#include <vector>

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

/// Idle kept connections by event loop and target; every access under the mutex.
struct BeastHttpClient::Idle {
    struct Kept {
        std::unique_ptr<beast::tcp_stream> stream;
        std::chrono::steady_clock::time_point since;
    };
    std::mutex mutex;
    std::map<std::pair<const void*, std::string>, std::vector<Kept>> kept;
    std::size_t made = 0;
};

namespace {

/// False when the peer already closed (or reset, or sent bytes nobody asked for): the kernel
/// has it queued, so a non-blocking peek sees it without waiting.
bool still_open(beast::tcp_stream& stream) {
    char byte = 0;
    const ssize_t n = ::recv(stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

BeastHttpClient::BeastHttpClient(std::size_t max_response_bytes)
    : BeastHttpClient(Options{.max_response_bytes = max_response_bytes}) {}

BeastHttpClient::BeastHttpClient(Options options)
    : options_(options), idle_(std::make_unique<Idle>()) {}

BeastHttpClient::~BeastHttpClient() = default;

std::size_t BeastHttpClient::connections_made() const {
    std::lock_guard lock(idle_->mutex);
    return idle_->made;
}

core::Task<core::ClientResponse> BeastHttpClient::send(const core::ClientRequest& request) {
    const Target target = parse_url(request.url);
    auto executor = co_await asio::this_coro::executor;
    const auto key =
        std::make_pair(static_cast<const void*>(&asio::query(executor, asio::execution::context)),
                       target.host + ":" + target.port);
    constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

    std::unique_ptr<beast::tcp_stream> stream;
    if (options_.keep_alive) {
        std::lock_guard lock(idle_->mutex);
        auto it = idle_->kept.find(key);
        const auto now = std::chrono::steady_clock::now();
        while (it != idle_->kept.end() && !it->second.empty() && !stream) {
            auto kept = std::move(it->second.back());
            it->second.pop_back();
            if (now - kept.since < options_.idle_timeout && still_open(*kept.stream)) {
                stream = std::move(kept.stream);
            }
        }
    }
    if (!stream) {
        stream = std::make_unique<beast::tcp_stream>(executor);
        stream->expires_after(request.timeout);
        asio::ip::tcp::resolver resolver(executor);
        auto [rec, endpoints] = co_await resolver.async_resolve(target.host, target.port, kNoThrow);
        check_not_sent(rec, "resolve", target);
        auto [cec, connected] = co_await stream->async_connect(endpoints, kNoThrow);
        check_not_sent(cec, "connect", target);
        std::lock_guard lock(idle_->mutex);
        ++idle_->made;
    }
    stream->expires_after(request.timeout);  // one deadline for the rest of the exchange

    http::request<http::string_body> req{verb_of(request.method), target.path, 11};
    req.set(http::field::host, target.host);
    req.set(http::field::user_agent, "msg_server");
    req.keep_alive(options_.keep_alive);
    if (!request.body.empty() || request.method == core::Method::post ||
        request.method == core::Method::put) {
        req.set(http::field::content_type, request.content_type);
        req.body() = request.body;
        req.prepare_payload();
    }
    for (const auto& [name, value] : request.headers) req.set(name, value);
    auto [wec, written] = co_await http::async_write(*stream, req, kNoThrow);
    check(wec, "write", target);

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_response_bytes);
    if (request.method == core::Method::head) parser.skip(true);
    auto [ec, read] = co_await http::async_read(*stream, buffer, parser, kNoThrow);
    check(ec, "read", target);
    auto& res = parser.get();
    // Kept only when nothing is left over: bytes after the response would be read as the
    // next request's answer.
    if (options_.keep_alive && res.keep_alive() && buffer.size() == 0) {
        stream->expires_never();
        std::lock_guard lock(idle_->mutex);
        auto& kept = idle_->kept[key];
        if (kept.size() < options_.max_idle_per_target) {
            kept.push_back({std::move(stream), std::chrono::steady_clock::now()});
        }
    }
    if (stream) {
        beast::error_code ignored;
        stream->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    }
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
