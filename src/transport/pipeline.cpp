#include "transport/pipeline.hpp"

#include <spdlog/logger.h>
#include <boost/json/object.hpp>

#include <chrono>
#include <random>

#include "auth/jwt.hpp"
#include "core/credentials.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "core/text.hpp"
#include "transport/error_response.hpp"

namespace msg::transport {

namespace {

bool valid_request_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

core::HttpResponse plain_error(unsigned status, std::string_view message) {
    return error_response(core::Error{status == 401   ? core::ErrorCode::unauthorized
                                      : status == 403 ? core::ErrorCode::forbidden
                                                      : core::ErrorCode::not_found,
                                      std::string(message)});
}

/// Probes and scrapes are logged at debug level so they do not drown the access log.
bool is_probe(std::string_view route) {
    return route == "/health" || route == "/health/live" || route == "/health/ready" ||
           route == "/metrics";
}

}  // namespace

Pipeline::Pipeline(const Router& router, const auth::JwtCodec& jwt, core::Metrics& metrics,
                   CorsOptions cors)
    : router_(router),
      jwt_(jwt),
      metrics_(metrics),
      cors_(std::move(cors)),
      log_(core::logger("http")) {
    std::random_device rd;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", rd());
    id_prefix_ = buf;
}

std::string Pipeline::next_request_id() {
    return id_prefix_ + "-" + std::to_string(id_counter_.fetch_add(1, std::memory_order_relaxed));
}

bool Pipeline::origin_allowed(std::string_view origin) const {
    for (const auto& allowed : cors_.allowed_origins) {
        if (allowed == "*" || allowed == origin) return true;
    }
    return false;
}

core::Result<void> Pipeline::check_websocket_origin(const core::HttpRequest& request) const {
    if (!request.origin.empty() && !origin_allowed(request.origin)) {
        // Same origin is always fine: "<scheme>://<Host header>".
        auto scheme_end = request.origin.find("://");
        std::string_view origin_host =
            scheme_end == std::string::npos
                ? std::string_view{}
                : std::string_view(request.origin).substr(scheme_end + 3);
        if (origin_host.empty() || origin_host != request.host) {
            return core::forbidden("origin not allowed");
        }
    }
    return {};
}

core::Task<core::Result<core::Principal>> Pipeline::authenticate_websocket(
    const core::HttpRequest& request) const {
    if (auto origin = check_websocket_origin(request); !origin) co_return origin.error();
    std::string token;
    if (auto bearer = request.bearer_token()) {
        token = *bearer;
    } else if (auto q = request.query_param("access_token"); q && !q->empty()) {
        token = *q;
    } else if (auto t = request.query_param("token"); t && !t->empty()) {
        token = *t;
    }
    if (token.empty()) co_return core::unauthorized("bearer token is required");
    auto who = jwt_.verify(token);
    if (!who) co_return core::unauthorized("invalid token");
    if (credentials_ != nullptr) {
        auto current = co_await credentials_->check(*who);
        if (!current) co_return current.error();
    }
    co_return *who;
}

void Pipeline::add_security_headers(core::HttpResponse& response) {
    // Every answer is data for one caller: never sniffed into something executable, never
    // kept by a shared cache (tokens and session tokens included), no URL leaked onwards.
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    response.headers.emplace_back("Referrer-Policy", "no-referrer");
    bool cache_set = false;
    for (const auto& [name, value] : response.headers) {
        if (core::ascii_lower(name) == "cache-control") cache_set = true;
    }
    if (!cache_set) response.headers.emplace_back("Cache-Control", "no-store");
}

void Pipeline::add_cors_headers(const core::HttpRequest& request,
                                core::HttpResponse& response) const {
    if (request.origin.empty() || !origin_allowed(request.origin)) return;
    response.headers.emplace_back("Access-Control-Allow-Origin", request.origin);
    response.headers.emplace_back("Vary", "Origin");
    response.headers.emplace_back("Access-Control-Expose-Headers", "X-Request-Id, Retry-After");
}

core::Task<core::HttpResponse> Pipeline::handle(core::HttpRequest& request) {
    if (!valid_request_id(request.request_id)) request.request_id = next_request_id();
    const auto started = std::chrono::steady_clock::now();

    std::string_view route = "unmatched";
    core::HttpResponse response = co_await dispatch(request, route);

    response.headers.emplace_back("X-Request-Id", request.request_id);
    add_security_headers(response);
    add_cors_headers(request, response);

    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics_.observe_http(route, core::to_string(request.method), response.status, seconds);
    log_->log(is_probe(route) ? spdlog::level::debug : spdlog::level::info,
              "req={} method={} path={} route={} status={} ms={:.2f} ip={}", request.request_id,
              core::to_string(request.method), request.path, route, response.status, seconds * 1000,
              request.remote_ip);
    co_return response;
}

core::Task<core::HttpResponse> Pipeline::dispatch(core::HttpRequest& request,
                                                  std::string_view& route) {
    if (request.method == core::Method::options && !request.origin.empty()) {
        core::HttpResponse preflight{204, "", "text/plain", {}};
        if (origin_allowed(request.origin)) {
            preflight.headers.emplace_back("Access-Control-Allow-Methods",
                                           "GET, POST, PUT, PATCH, DELETE, OPTIONS");
            preflight.headers.emplace_back("Access-Control-Allow-Headers",
                                           "Authorization, Content-Type, X-Request-Id");
            preflight.headers.emplace_back("Access-Control-Max-Age", "600");
        }
        co_return preflight;
    }

    auto match = router_.match(request.method, request.path);
    if (match.outcome == Router::Outcome::not_found) co_return plain_error(404, "not found");
    if (match.outcome == Router::Outcome::method_not_allowed) {
        co_return core::json_response(405, boost::json::object{{"error", "method not allowed"}});
    }
    const core::Route& r = *match.route;
    route = r.pattern;
    request.path_params = std::move(match.params);

    if (r.access == core::Access::internal) {
        const auto presented = request.bearer_token();
        if (!presented) co_return plain_error(401, "bearer token is required");
        // Constant time; an unset token refuses everything.
        if (internal_token_.empty() || !core::constant_time_equal(*presented, internal_token_)) {
            co_return plain_error(401, "invalid token");
        }
    } else if (r.access != core::Access::open) {
        const auto bearer = request.bearer_token();
        if (!bearer) co_return plain_error(401, "bearer token is required");
        request.principal = jwt_.verify(*bearer);
        if (!request.principal) co_return plain_error(401, "invalid token");
    }

    try {
        if (request.principal && credentials_ != nullptr) {
            // The claims were true when signed; are they still (tenant, user, token version)?
            auto current = co_await credentials_->check(*request.principal);
            if (!current) co_return error_response(current.error());
        }
        if (r.access == core::Access::admin_or_manager &&
            !request.principal->is_admin_or_manager()) {
            co_return plain_error(403, "insufficient permissions");
        }
        auto result = co_await r.handler(request);
        if (result) co_return std::move(*result);
        co_return error_response(result.error());
    } catch (const core::ErrorException& e) {
        co_return error_response(e.error());
    } catch (const core::UnavailableException& e) {
        log_->warn("req={} unavailable error=\"{}\"", request.request_id, e.what());
        co_return core::json_response(503, boost::json::object{{"error", "service unavailable"}});
    } catch (const std::exception& e) {
        log_->error("req={} handler failed error=\"{}\"", request.request_id, e.what());
    }
    co_return core::json_response(500, boost::json::object{{"error", "internal error"}});
}

}  // namespace msg::transport
