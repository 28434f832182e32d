#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "session/model.hpp"

namespace msg::session {
namespace {

TEST(SessionModel, SessionIdsAreCanonicalUuids) {
    EXPECT_TRUE(valid_session_id("1b4e28ba-2fa1-11d2-883f-0016d3cca427"));
    EXPECT_TRUE(valid_session_id("1B4E28BA-2FA1-11D2-883F-0016D3CCA427"));
    EXPECT_FALSE(valid_session_id("1b4e28ba2fa111d2883f0016d3cca427"));
    EXPECT_FALSE(valid_session_id("1b4e28ba-2fa1-11d2-883f-0016d3cca42"));
    EXPECT_FALSE(valid_session_id("zb4e28ba-2fa1-11d2-883f-0016d3cca427"));
    EXPECT_FALSE(valid_session_id("'; DROP TABLE device_sessions; --------"));
    EXPECT_FALSE(valid_session_id(""));
}

TEST(SessionModel, TokensAre64LowercaseHex) {
    const std::string ok(64, 'a');
    EXPECT_TRUE(valid_session_token(ok));
    EXPECT_FALSE(valid_session_token(std::string(63, 'a')));
    EXPECT_FALSE(valid_session_token(std::string(64, 'A')));
    EXPECT_FALSE(valid_session_token(std::string(64, 'g')));
}

TEST(SessionModel, StatusRulesAreTheSeeds) {
    EXPECT_EQ(normalize_status("  Busy ").value(), "busy");
    EXPECT_EQ(normalize_status("MEETING").value(), "meeting");
    EXPECT_EQ(normalize_status("   ").error().message, "status is required");
    EXPECT_EQ(normalize_status("sleeping").error().message,
              "status must be one of online|offline|busy|away|meeting");
}

TEST(SessionModel, AllowedTenantsAreCleanedAndIncludeTheOwnTenant) {
    EXPECT_EQ(clean_allowed_tenants({}, "acme"), (std::vector<std::string>{"acme"}));
    EXPECT_EQ(clean_allowed_tenants({" beta ", "", "beta", "acme", "gamma"}, "acme"),
              (std::vector<std::string>{"beta", "acme", "gamma"}));
    EXPECT_EQ(clean_allowed_tenants({"beta"}, "acme"), (std::vector<std::string>{"beta", "acme"}));
}

TEST(SessionModel, StatusChangedHasTheSeedKeys) {
    auto event = status_changed_event("acme", {7, "busy", "lunch", "2026-11-27T10:00:00Z"});
    EXPECT_EQ(boost::json::serialize(event),
              R"({"type":"status.changed","tenant_id":"acme","user_id":7,"status":"busy",)"
              R"("status_note":"lunch","updated_at":"2026-11-27T10:00:00Z"})");
}

TEST(SessionModel, LoginResponseHasTheSeedFieldsAndNoGeneration) {
    DeviceSession s;
    s.session_id = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
    s.tenant_id = "acme";
    s.user_id = 7;
    s.device_id = "laptop";
    s.allowed_tenants = {"acme"};
    s.generation = 3;
    auto out = to_json(s, "tok", "jwt");
    for (auto key : {"session_id", "tenant_id", "user_id", "device_id", "device_name", "auth_token",
                     "session_token", "allowed_tenants", "last_seen_at", "created_at"}) {
        EXPECT_TRUE(out.contains(key)) << key;
    }
    EXPECT_FALSE(out.contains("generation"));
    EXPECT_FALSE(out.contains("token_hash"));
}

}  // namespace
}  // namespace msg::session
