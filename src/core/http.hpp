#pragma once

// The HTTP vocabulary shared by domain route tables and the transport. Plain structs: no Beast.

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/task.hpp"

namespace msg::core {

enum class Method { get, head, post, put, patch, del, options, other };
std::string_view to_string(Method m);

/// The authenticated caller, from the JWT claims.
struct Principal {
    std::int64_t user_id = 0;
    std::string tenant_id;
    std::string role;
    /// The user's token version when the token was signed (claim `tv`; absent: 0). A bump
    /// revokes every older token (core::CredentialGuard).
    std::int64_t token_version = 0;
    std::int64_t expires_at = 0;  // unix seconds (claim `exp`); 0: not from a token

    bool is_admin_or_manager() const { return role == "admin" || role == "manager"; }
};

struct HttpRequest {
    Method method = Method::other;
    std::string path;
    std::string query;  // raw, without '?'
    std::string body;
    std::string authorization;
    std::string user_agent;
    std::string origin;
    std::string host;
    std::string remote_ip;  // peer, or the forwarded client when the peer is a trusted proxy
    std::string request_id;
    std::vector<std::pair<std::string, std::string>> path_params;
    std::optional<Principal> principal;  // set by the auth middleware on protected routes

    /// A path parameter declared as `:name` in the route pattern ("" if absent).
    std::string_view param(std::string_view name) const;
    /// A query parameter, percent-decoded ('+' is a space); nullopt if absent.
    std::optional<std::string> query_param(std::string_view name) const;
    /// A page size from `name`: absent, not a number, ≤ 0 or > max → `fallback` (seed rule).
    int limit_param(std::string_view name, int fallback, int max) const;
    /// The token of `Authorization: Bearer <token>` (possibly empty); nullopt without that
    /// scheme. The one parser of the header (pipeline, WebSocket handshake, session login).
    std::optional<std::string_view> bearer_token() const;
    /// The principal of a protected route (asserted present by the pipeline).
    const Principal& caller() const { return *principal; }
};

/// application/x-www-form-urlencoded decoding ('+' is a space; a malformed escape stays as
/// it is).
std::string percent_decode(std::string_view s);
/// A URL path segment's decoding: '+' stays; nullopt for a malformed escape.
std::optional<std::string> percent_decode_path(std::string_view s);
/// The decoded value of `name` in a raw query string; nullopt if absent.
std::optional<std::string> query_value(std::string_view query, std::string_view name);

struct HttpResponse {
    unsigned status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
};

HttpResponse json_response(unsigned status, const boost::json::value& body);
HttpResponse ok_response();                                  // 200 {"ok":true}
HttpResponse id_response(unsigned status, std::int64_t id);  // {"id":N}

/// Who may call a route; the pipeline enforces it before the handler runs, with the seed's
/// error strings (401 `bearer token is required` / `invalid token`, 403 `insufficient
/// permissions`).
/// `internal`: service-to-service routes (vectorman, dbman); `Authorization: Bearer
/// <INTERNAL_API_TOKEN>`, no JWT.
enum class Access { open, authenticated, admin_or_manager, internal };
/// "open", "authenticated", … (the route table in the debug log).
std::string_view to_string(Access a);

/// Handlers are thin: parse → one service call → response. An expected failure is returned as
/// an Error and mapped to a status in one place (transport/error_response.cpp).
using Handler = std::function<Task<Result<HttpResponse>>(HttpRequest&)>;

struct Route {
    Method method;
    std::string pattern;  // "/api/v1/users/:id/status"
    Access access;
    Handler handler;
};

/// Route-table helper: turns member functions of one shared handler object into Handlers.
///
///     auto on = core::bind_methods(std::make_shared<Handlers>(service));
///     return {{Method::get, "/api/v1/x", Access::authenticated, on(&Handlers::x)}};
template <class H>
auto bind_methods(std::shared_ptr<H> handlers) {
    return [handlers](Task<Result<HttpResponse>> (H::*fn)(HttpRequest&)) -> Handler {
        return [handlers, fn](HttpRequest& r) { return ((*handlers).*fn)(r); };
    };
}

}  // namespace msg::core
