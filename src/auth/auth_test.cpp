#include <gtest/gtest.h>
#include <jwt.h>

#include <cstdlib>

#include "auth/jwt.hpp"
#include "auth/password.hpp"
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

TEST(Tokens, Sha256MatchesTheStandardVector) {
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace msg::auth
