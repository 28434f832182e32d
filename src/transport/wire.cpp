#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>

#include <array>

#include "transport/server_impl.hpp"

namespace msg::transport {

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

bool is_trusted_proxy(const ServerOptions& o, const std::string& peer) {
    for (const auto& t : o.trusted_proxies) {
        if (t == peer) return true;
    }
    return false;
}

std::string client_ip(const ServerOptions& o, const std::string& peer, std::string_view xff) {
    if (xff.empty() || !is_trusted_proxy(o, peer)) return peer;
    std::string candidate = peer;
    while (!xff.empty()) {
        auto comma = xff.rfind(',');
        std::string_view hop = comma == std::string_view::npos ? xff : xff.substr(comma + 1);
        xff = comma == std::string_view::npos ? std::string_view{} : xff.substr(0, comma);
        while (!hop.empty() && hop.front() == ' ') hop.remove_prefix(1);
        while (!hop.empty() && hop.back() == ' ') hop.remove_suffix(1);
        if (hop.empty()) break;
        candidate = std::string(hop);
        if (!is_trusted_proxy(o, candidate)) break;
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

namespace {
bool header_safe(std::string_view v) { return v.find_first_of("\r\n") == std::string_view::npos; }
}  // namespace

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

std::optional<ParseErrorAnswer> parse_error_answer(const boost::system::error_code& ec) {
    if (ec == http::error::header_limit) return ParseErrorAnswer{431, "request headers too large"};
    // Content-Length over the limit (at the header) or a chunked body growing past it.
    if (ec == http::error::body_limit) return ParseErrorAnswer{413, "request body too large"};
    if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
        return ParseErrorAnswer{400, "malformed request"};
    }
    return std::nullopt;  // the client went away or timed out: nobody to answer
}

asio::awaitable<void> answer_parse_error(beast::tcp_stream& stream,
                                         const boost::system::error_code& ec,
                                         const ServerOptions& o) {
    if (auto answer = parse_error_answer(ec)) {
        co_await write_error(stream, answer->status, answer->message, o);
    }
}

}  // namespace msg::transport
