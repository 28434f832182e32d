#include <gtest/gtest.h>
#include <jwt.h>

#include <cstdlib>

#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "auth/rate_limiter.hpp"
#include "core/base64url.hpp"

namespace msg::auth {
namespace {

using namespace std::chrono_literals;

const core::Principal kAlice{42, "acme", "manager"};

TEST(Jwt, SignAndVerify) {
    core::ManualClock clock;
    JwtCodec codec("secret-1", 60min, clock);
    auto who = codec.verify(codec.sign(kAlice));
    ASSERT_TRUE(who);
    EXPECT_EQ(who->user_id, 42);
    EXPECT_EQ(who->tenant_id, "acme");
    EXPECT_EQ(who->role, "manager");
}

TEST(Jwt, ExpiresAfterTtl) {
    core::ManualClock clock;
    JwtCodec codec("secret-1", 60min, clock);
    auto token = codec.sign(kAlice);
    clock.advance(59min);
    EXPECT_TRUE(codec.verify(token));
    clock.advance(1min);
    EXPECT_FALSE(codec.verify(token));  // exp is exclusive: no leeway
}

TEST(Jwt, RejectsWrongSecret) {
    core::ManualClock clock;
    JwtCodec a("secret-1", 60min, clock), b("secret-2", 60min, clock);
    EXPECT_FALSE(b.verify(a.sign(kAlice)));
}

TEST(Jwt, RejectsTamperedPayload) {
    core::ManualClock clock;
    JwtCodec codec("secret-1", 60min, clock);
    auto token = codec.sign(kAlice);
    auto dot1 = token.find('.');
    auto dot2 = token.find('.', dot1 + 1);
    auto payload = core::base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
    ASSERT_TRUE(payload);
    auto pos = payload->find("manager");
    ASSERT_NE(pos, std::string::npos);
    payload->replace(pos, 7, "admin");
    auto forged = token.substr(0, dot1 + 1) + core::base64url_encode(*payload) + token.substr(dot2);
    EXPECT_FALSE(codec.verify(forged));
}

TEST(Jwt, RejectsAlgNone) {
    core::ManualClock clock;
    JwtCodec codec("secret-1", 60min, clock);
    const long exp =
        std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count() +
        3600;
    auto header = core::base64url_encode(R"({"alg":"none","typ":"JWT"})");
    auto payload = core::base64url_encode(
        R"({"user_id":"42","tenant_id":"acme","role":"admin","exp":)" + std::to_string(exp) + "}");
    EXPECT_FALSE(codec.verify(header + "." + payload + "."));
    EXPECT_FALSE(codec.verify(header + "." + payload));
}

TEST(Jwt, RejectsOtherHmacAlgorithms) {
    core::ManualClock clock;
    JwtCodec codec("secret-1", 60min, clock);
    jwt_t* j = nullptr;
    ASSERT_EQ(jwt_new(&j), 0);
    jwt_add_grant(j, "user_id", "42");
    jwt_add_grant(j, "tenant_id", "acme");
    jwt_add_grant(j, "role", "admin");
    jwt_add_grant_int(j, "exp", 4'000'000'000L);
    const std::string key = "secret-1";
    jwt_set_alg(j, JWT_ALG_HS512, reinterpret_cast<const unsigned char*>(key.data()),
                static_cast<int>(key.size()));
    char* text = jwt_encode_str(j);
    std::string token(text);
    std::free(text);
    jwt_free(j);
    EXPECT_FALSE(codec.verify(token));
}

TEST(Jwt, RejectsGarbageAndMissingClaims) {
    core::ManualClock clock;
    JwtCodec codec("secret-1", 60min, clock);
    EXPECT_FALSE(codec.verify(""));
    EXPECT_FALSE(codec.verify("a.b.c"));
    EXPECT_FALSE(codec.verify(std::string(5000, 'a')));
    EXPECT_FALSE(codec.verify(codec.sign({42, "", "user"})));  // empty tenant claim
}

TEST(Password, HashAndVerify) {
    PasswordHasher hasher({1, 8192 * 1024});  // cheap cost for tests; production uses interactive()
    auto h = hasher.hash("correct horse");
    EXPECT_TRUE(h.starts_with("$argon2id$"));
    EXPECT_TRUE(hasher.verify(h, "correct horse"));
    EXPECT_FALSE(hasher.verify(h, "correct horsE"));
    EXPECT_FALSE(hasher.verify("", "x"));
    EXPECT_FALSE(hasher.verify("not-a-hash", "x"));
    EXPECT_NE(hasher.hash("correct horse"), h);  // salted
}

TEST(Tokens, RandomHexIsLowercaseHexOfTheRequestedLength) {
    auto a = random_hex(32);
    ASSERT_EQ(a.size(), 64u);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(random_hex(32), a);
}

TEST(Tokens, Sha256MatchesTheStandardVector) {
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(RateLimiter, AllowsBurstThenRefills) {
    core::ManualClock clock;
    RateLimiter limiter(3, 60s, clock);
    EXPECT_EQ(limiter.acquire("k"), 0);
    EXPECT_EQ(limiter.acquire("k"), 0);
    EXPECT_EQ(limiter.acquire("k"), 0);
    EXPECT_EQ(limiter.acquire("k"), 20);  // one token every 20 s
    EXPECT_EQ(limiter.acquire("other"), 0);
    clock.advance(20s);
    EXPECT_EQ(limiter.acquire("k"), 0);
    EXPECT_GT(limiter.acquire("k"), 0);
}

TEST(RateLimiter, KeyTableIsBoundedAndForgetsTheLeastRecentlyUsed) {
    core::ManualClock clock;
    RateLimiter limiter(1, 60s, clock, 4);
    EXPECT_EQ(limiter.acquire("victim"), 0);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(limiter.acquire("k" + std::to_string(i)), 0);
        // The busy key stays remembered (and limited) through a flood of new keys; before,
        // the table was cleared at the bound and the limit failed open.
        EXPECT_GT(limiter.acquire("victim"), 0);
        EXPECT_LE(limiter.keys(), 4u);
    }
}

TEST(RateLimiter, PeekDoesNotTakeAToken) {
    core::ManualClock clock;
    RateLimiter limiter(2, 60s, clock);
    EXPECT_EQ(limiter.peek("k"), 0);
    EXPECT_EQ(limiter.peek("k"), 0);
    EXPECT_EQ(limiter.acquire("k"), 0);
    EXPECT_EQ(limiter.acquire("k"), 0);
    EXPECT_EQ(limiter.peek("k"), 30);
    EXPECT_EQ(limiter.acquire("k"), 30);
    limiter.refund("k");  // a success gives its token back
    EXPECT_EQ(limiter.acquire("k"), 0);
    limiter.refund("k");
    limiter.refund("k");
    limiter.refund("k");  // never above the limit
    EXPECT_EQ(limiter.acquire("k"), 0);
    EXPECT_EQ(limiter.acquire("k"), 0);
    EXPECT_GT(limiter.acquire("k"), 0);
}

TEST(RateLimiter, Ipv6IsLimitedPerSlash64) {
    EXPECT_EQ(rate_key_for_ip("203.0.113.7"), "203.0.113.7");
    EXPECT_EQ(rate_key_for_ip("2001:db8:1:2:aaaa::1"), rate_key_for_ip("2001:db8:1:2::ffff"));
    EXPECT_NE(rate_key_for_ip("2001:db8:1:2::1"), rate_key_for_ip("2001:db8:1:3::1"));
    EXPECT_EQ(rate_key_for_ip("2001:db8:1:2::1"), "v6:20010db800010002/64");
    EXPECT_EQ(rate_key_for_ip("::ffff:203.0.113.7"), "203.0.113.7");  // not one shared /64
    EXPECT_EQ(rate_key_for_ip("not an ip"), "not an ip");
}

}  // namespace
}  // namespace msg::auth
