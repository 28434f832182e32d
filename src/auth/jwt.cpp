#include "auth/jwt.hpp"

#include <jwt.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "core/json.hpp"

namespace msg::auth {

namespace {
struct JwtFree {
    void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;

long unix_seconds(const core::Clock& clock) {
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count());
}
}  // namespace

JwtCodec::JwtCodec(std::string secret, std::chrono::minutes ttl, const core::Clock& clock)
    : secret_(std::move(secret)), ttl_(ttl), clock_(clock) {}

std::string JwtCodec::sign(const core::Principal& who) const {
    jwt_t* raw = nullptr;
    if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
    JwtPtr token(raw);
    const long now = unix_seconds(clock_);
    const std::string user_id = std::to_string(who.user_id);
    if (jwt_add_grant(raw, "user_id", user_id.c_str()) != 0 ||
        jwt_add_grant(raw, "tenant_id", who.tenant_id.c_str()) != 0 ||
        jwt_add_grant(raw, "role", who.role.c_str()) != 0 ||
        jwt_add_grant_int(raw, "iat", now) != 0 ||
        jwt_add_grant_int(raw, "tv", static_cast<long>(who.token_version)) != 0 ||
        jwt_add_grant_int(raw, "exp", now + static_cast<long>(ttl_.count()) * 60) != 0 ||
        jwt_set_alg(raw, JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret_.data()),
                    static_cast<int>(secret_.size())) != 0) {
        throw std::runtime_error("jwt encode failed");
    }
    char* text = jwt_encode_str(raw);
    if (text == nullptr) throw std::runtime_error("jwt encode failed");
    std::string out(text);
    std::free(text);  // libjwt 1.10 has no jwt_free_str
    return out;
}

std::optional<core::Principal> JwtCodec::verify(std::string_view token) const {
    if (token.empty() || token.size() > 4096) return std::nullopt;
    const std::string text(token);
    jwt_t* raw = nullptr;
    if (jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(secret_.data()),
                   static_cast<int>(secret_.size())) != 0 ||
        raw == nullptr) {
        return std::nullopt;
    }
    JwtPtr decoded(raw);
    // libjwt 1.10 accepts alg "none" when asked to; we accept only what we sign.
    if (jwt_get_alg(raw) != JWT_ALG_HS256) return std::nullopt;

    errno = 0;
    const long exp = jwt_get_grant_int(raw, "exp");
    if (errno != 0 || exp <= unix_seconds(clock_)) return std::nullopt;

    core::Principal who;
    if (const char* uid = jwt_get_grant(raw, "user_id")) {
        auto id = core::parse_id(std::string_view(uid));
        if (!id) return std::nullopt;
        who.user_id = *id;
    } else {
        errno = 0;
        const long uid_number = jwt_get_grant_int(raw, "user_id");
        if (errno != 0 || uid_number < 1 || uid_number > core::kMaxId) return std::nullopt;
        who.user_id = uid_number;
    }
    const char* tenant = jwt_get_grant(raw, "tenant_id");
    const char* role = jwt_get_grant(raw, "role");
    if (tenant == nullptr || role == nullptr || *tenant == '\0' || *role == '\0') {
        return std::nullopt;
    }
    who.tenant_id = tenant;
    who.role = role;
    who.expires_at = exp;
    errno = 0;
    const long version = jwt_get_grant_int(raw, "tv");
    if (errno == 0) {
        if (version < 0) return std::nullopt;
        who.token_version = version;
    } else if (errno != ENOENT) {
        return std::nullopt;  // present but not an integer
    }
    return who;
}

}  // namespace msg::auth
