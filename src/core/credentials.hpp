#pragma once

#include <cstdint>
#include <memory>

#include "core/error.hpp"
#include "core/http.hpp"
#include "core/task.hpp"
#include "core/ws.hpp"

namespace msg::core {

/// A verified token is a claim made at signing time; this seam says whether it still holds at
/// the moment of use (issue 12): the tenant is active, the user is active, and the token's
/// version is the user's current one. The pipeline asks it on every authenticated request and
/// WebSocket handshake; live sockets are registered so a revocation closes them (4401).
class CredentialGuard {
  public:
    virtual ~CredentialGuard() = default;
    /// 401 `tenant suspended` or `token revoked`; an outage throws (→ 503).
    virtual Task<Result<void>> check(const Principal& who) = 0;
    /// Closes `socket` when the user's or the tenant's credentials are revoked. Any thread.
    /// False (and not watched) when the user already has the most sockets allowed: the
    /// handshake is refused with 429.
    virtual bool watch(const Principal& who, const std::shared_ptr<WsConnection>& socket) = 0;
    virtual void unwatch(const Principal& who, std::uint64_t socket_id) = 0;
};

/// The close code of a socket whose credentials ended (revoked, suspended or expired): the
/// 4000 range is the application's; 4401 reads as "401" to a client.
inline constexpr unsigned short kCloseUnauthorized = 4401;

}  // namespace msg::core
