// Bearer tokens (every authenticated request and /ws handshake): auth::JwtCodec::verify.
// Invariants: an accepted token names a user id in 1..kMaxId, a tenant and a role, and has not
// expired; a token whose header or claims were changed is refused (the signature covers them);
// what we sign verifies to the same principal.
#include <chrono>
#include <string>
#include <string_view>

#include "auth/jwt.hpp"
#include "core/base64url.hpp"
#include "core/clock.hpp"
#include "core/json.hpp"
#include "fuzz/fuzz.hpp"

namespace {

const msg::core::ManualClock& clock() {
    static const msg::core::ManualClock c;
    return c;
}

const msg::auth::JwtCodec& codec() {
    static const msg::auth::JwtCodec c("fuzz-secret-0123456789abcdef0123", std::chrono::minutes(60),
                                       clock());
    return c;
}

void check_accepted(const msg::core::Principal& p) {
    FUZZ_CHECK(p.user_id >= 1 && p.user_id <= msg::core::kMaxId);
    FUZZ_CHECK(!p.tenant_id.empty() && !p.role.empty());
    FUZZ_CHECK(p.token_version >= 0);
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(clock().now().time_since_epoch()).count();
    FUZZ_CHECK(p.expires_at > now);
}

/// Printable ASCII from the input (claims our server signs never hold anything else).
std::string printable(std::string_view s, std::size_t max) {
    std::string out;
    for (char c : s) {
        if (out.size() >= max) break;
        if (c >= 0x21 && c <= 0x7e) out += c;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    // 1. The input as a token.
    if (auto p = codec().verify(text)) check_accepted(*p);

    // 2. The input as the claims (or header) of a token signed by us: only the original
    //    segments verify.
    msg::core::Principal who{.user_id = 42, .tenant_id = "t1", .role = "member"};
    const std::string good = codec().sign(who);
    const auto dot1 = good.find('.');
    const auto dot2 = good.find('.', dot1 + 1);
    const std::string header = good.substr(0, dot1);
    const std::string claims = good.substr(dot1 + 1, dot2 - dot1 - 1);
    const std::string signature = good.substr(dot2 + 1);
    const std::string forged_claims = msg::core::base64url_encode(text);
    if (forged_claims != claims) {
        FUZZ_CHECK(!codec().verify(header + "." + forged_claims + "." + signature));
    }
    if (forged_claims != header) {
        FUZZ_CHECK(!codec().verify(forged_claims + "." + claims + "." + signature));
        FUZZ_CHECK(!codec().verify(forged_claims + "." + claims + "."));
    }

    // 3. A principal made of the input round-trips through sign and verify.
    if (size >= 8) {
        std::uint64_t raw = 0;
        for (int i = 0; i < 8; ++i) raw = (raw << 8) | data[i];
        msg::core::Principal p;
        p.user_id =
            static_cast<std::int64_t>(raw % static_cast<std::uint64_t>(msg::core::kMaxId)) + 1;
        p.tenant_id = printable(text.substr(8), 64);
        p.role = p.tenant_id.empty() ? "admin" : p.tenant_id.substr(0, 1);
        if (p.tenant_id.empty()) p.tenant_id = "x";
        p.token_version = static_cast<std::int64_t>(raw >> 40);
        auto back = codec().verify(codec().sign(p));
        FUZZ_CHECK(back && back->user_id == p.user_id && back->tenant_id == p.tenant_id &&
                   back->role == p.role && back->token_version == p.token_version);
        check_accepted(*back);
    }
    return 0;
}
