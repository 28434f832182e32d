#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/http.hpp"

namespace msg::auth {

/// HS256 JWTs with the seed's claims: user_id, tenant_id, role, iat, exp (seed §8.1), plus
/// `tv`, the user's token version (revocation; absent in old tokens: 0).
class JwtCodec {
  public:
    JwtCodec(std::string secret, std::chrono::minutes ttl, const core::Clock& clock);

    std::string sign(const core::Principal& who) const;
    /// nullopt for a bad signature, another algorithm (alg:none included), a missing or past
    /// `exp`, or missing claims.
    std::optional<core::Principal> verify(std::string_view token) const;

    std::chrono::minutes ttl() const { return ttl_; }

  private:
    std::string secret_;
    std::chrono::minutes ttl_;
    const core::Clock& clock_;
};

}  // namespace msg::auth
