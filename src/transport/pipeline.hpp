#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/http.hpp"
#include "core/metrics.hpp"
#include "core/task.hpp"
#include "transport/router.hpp"

namespace spdlog {
class logger;
}
namespace msg::auth {
class JwtCodec;
}
namespace msg::core {
class CredentialGuard;
}

namespace msg::transport {

struct CorsOptions {
    /// Exact origins ("https://chat.example.com") or "*". Empty: same origin only.
    std::vector<std::string> allowed_origins;
};

/// The middleware list, in order (STYLE rule 7):
///   request id → access log → metrics → CORS → route match (404/405) → auth (401/403)
///   → handler, with error mapping (Result errors, then exceptions) around the handler.
/// Body and header limits are enforced earlier, by the HTTP parser (413/431).
class Pipeline {
  public:
    Pipeline(const Router& router, const auth::JwtCodec& jwt, core::Metrics& metrics,
             CorsOptions cors);

    core::Task<core::HttpResponse> handle(core::HttpRequest& request);

    /// Also used for WebSocket handshakes that carry an Origin header.
    bool origin_allowed(std::string_view origin) const;

    /// WebSocket handshake checks, with the seed's texts: an Origin header must be allowed or
    /// the request's own host (403 `origin not allowed`); the token comes from
    /// `Authorization: Bearer`, else the `access_token`, else the `token` query parameter
    /// (401 `bearer token is required` / `invalid token`).
    /// The credentials guard is asked too (401 `token revoked` / `tenant suspended`).
    core::Task<core::Result<core::Principal>> authenticate_websocket(
        const core::HttpRequest& request) const;
    /// The Origin rule alone (for sockets that authenticate themselves).
    core::Result<void> check_websocket_origin(const core::HttpRequest& request) const;

    /// INTERNAL_API_TOKEN, which Access::internal routes require (unset: they refuse all).
    void set_internal_token(std::string token) { internal_token_ = std::move(token); }

    /// Checks every verified token at the moment of use (may be null: claims alone). Set once
    /// at start-up, before serving; also used for live sockets by the transport.
    void set_credentials(core::CredentialGuard* guard) { credentials_ = guard; }
    core::CredentialGuard* credentials() const { return credentials_; }

  private:
    std::string next_request_id();
    core::Task<core::HttpResponse> dispatch(core::HttpRequest& request, std::string_view& route);
    void add_cors_headers(const core::HttpRequest& request, core::HttpResponse& response) const;
    static void add_security_headers(core::HttpResponse& response);

    std::string internal_token_;
    core::CredentialGuard* credentials_ = nullptr;
    const Router& router_;
    const auth::JwtCodec& jwt_;
    core::Metrics& metrics_;
    CorsOptions cors_;
    std::shared_ptr<spdlog::logger> log_;
    std::string id_prefix_;
    std::atomic<unsigned long long> id_counter_{0};
};

}  // namespace msg::transport
