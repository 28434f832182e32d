// Fuzz target (fuzz/README.md): the HTTP request path up to the router — Beast's request
// parser with the server's limits, wire's to_request (target split, client address from
// X-Forwarded-For), the router over the served route patterns, query parameters. Here because
// it needs server_impl.hpp, which stays inside src/transport. Invariants: a parsed request
// stays within the limits; a path splits into its route's segments with non-empty
// slash-free parameters; HEAD routes as GET; the client address is one bounded hop.
#include <boost/beast/http/parser.hpp>

#include <string>
#include <string_view>

#include "fuzz/fuzz.hpp"
#include "transport/router.hpp"
#include "transport/server_impl.hpp"

namespace {

using msg::core::Method;
namespace http = boost::beast::http;

// The patterns the server mounts (the route tables of src/*/routes.cpp), by method.
const msg::transport::Router& router() {
    static const msg::transport::Router r = [] {
        msg::transport::Router out;
        const std::pair<Method, const char*> patterns[] = {
            {Method::get, "/health"},
            {Method::get, "/health/live"},
            {Method::get, "/health/ready"},
            {Method::get, "/metrics"},
            {Method::post, "/api/v1/auth/login"},
            {Method::get, "/api/v1/rooms"},
            {Method::post, "/api/v1/rooms"},
            {Method::get, "/api/v1/rooms/unread-counts"},
            {Method::get, "/api/v1/rooms/:id/messages"},
            {Method::post, "/api/v1/rooms/:id/messages"},
            {Method::get, "/api/v1/rooms/:id/messages/:messageId/readers"},
            {Method::post, "/api/v1/rooms/:id/members"},
            {Method::del, "/api/v1/rooms/:id/members/:user_id"},
            {Method::get, "/api/v1/rooms/:id/read"},
            {Method::post, "/api/v1/rooms/:id/read"},
            {Method::get, "/api/v1/rooms/:id/unread-count"},
            {Method::get, "/api/v1/rooms/:id/files"},
            {Method::get, "/api/v1/messages/search"},
            {Method::get, "/api/v1/users/me"},
            {Method::get, "/api/v1/users/search"},
            {Method::patch, "/api/v1/users/:id/status"},
            {Method::patch, "/api/v1/users/:id/role"},
            {Method::post, "/api/v1/users/:id/deactivate"},
            {Method::get, "/api/v1/users/me/aliases"},
            {Method::del, "/api/v1/users/me/aliases"},
            {Method::get, "/api/v1/notes/inbox"},
            {Method::get, "/api/v1/notes/:id"},
            {Method::post, "/api/v1/notes/:id/read"},
            {Method::patch, "/api/v1/tenants/:id"},
            {Method::post, "/api/v1/files/presign-upload"},
        };
        for (const auto& [method, pattern] : patterns) {
            out.add(msg::core::Route{method, pattern, msg::core::Access::authenticated, {}});
        }
        return out;
    }();
    return r;
}

std::size_t segments(std::string_view path) {
    std::size_t n = 0;
    bool in = false;
    for (char c : path) {
        if (c == '/') {
            in = false;
        } else if (!in) {
            in = true;
            ++n;
        }
    }
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    msg::transport::ServerOptions options;
    options.header_limit = 4096;
    options.body_limit = 64 * 1024;
    options.trusted_proxies = {"10.0.0.1", "10.0.0.2"};

    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    parser.body_limit(options.body_limit);
    parser.eager(true);
    boost::beast::error_code ec;
    // Fed in two pieces, as reads from a socket arrive.
    const std::size_t first = size / 2;
    std::size_t used = parser.put(boost::asio::buffer(data, first), ec);
    if (ec == http::error::need_more) ec = {};
    if (!ec && !parser.is_done()) {
        std::string rest(reinterpret_cast<const char*>(data) + used, size - used);
        parser.put(boost::asio::buffer(rest), ec);
    }
    if (!parser.is_header_done()) return 0;
    if (parser.is_done()) FUZZ_CHECK(parser.get().body().size() <= options.body_limit);
    auto message = parser.release();

    const std::string peer = (size % 2) == 0 ? "10.0.0.1" : "192.0.2.7";
    msg::core::HttpRequest request = msg::transport::to_request(message, options, peer);
    FUZZ_CHECK(request.path.find('?') == std::string::npos);
    FUZZ_CHECK(!request.remote_ip.empty() && request.remote_ip.size() <= 64);
    FUZZ_CHECK(request.remote_ip.find(',') == std::string::npos);
    if (peer == "192.0.2.7") FUZZ_CHECK(request.remote_ip == peer);  // untrusted peer: as is
    FUZZ_CHECK(request.user_agent.size() <= 512 && request.host.size() <= 256);

    const auto match = router().match(request.method, request.path);
    if (match.outcome == msg::transport::Router::Outcome::found) {
        FUZZ_CHECK(match.route != nullptr);
        FUZZ_CHECK(segments(match.route->pattern) == segments(request.path));
        std::size_t colons = 0;
        for (char c : match.route->pattern) colons += c == ':' ? 1 : 0;
        FUZZ_CHECK(match.params.size() == colons);
        for (const auto& [name, value] : match.params) {
            FUZZ_CHECK(!name.empty() && !value.empty() && value.find('/') == std::string::npos);
        }
    }
    if (request.method == Method::head) {
        const auto as_get = router().match(Method::get, request.path);
        FUZZ_CHECK(as_get.outcome == match.outcome && as_get.route == match.route);
    }
    const int limit = request.limit_param("limit", 50, 200);
    FUZZ_CHECK(limit >= 1 && limit <= 200);
    (void)request.query_param("cursor");
    (void)request.query_param("room_id");
    return 0;
}
