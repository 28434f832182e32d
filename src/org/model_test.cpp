#include <gtest/gtest.h>

#include "org/model.hpp"

namespace msg::org {
namespace {

std::string add_error(std::string_view raw) {
    auto r = normalize_alias_for_add(raw);
    return r ? "" : r.error().message;
}

TEST(AliasRules, AddNormalisesAndAcceptsHangul) {
    EXPECT_EQ(normalize_alias_for_add("  Dev_Lead ").value(), "dev_lead");
    EXPECT_EQ(normalize_alias_for_add("철수").value(), "철수");
    EXPECT_EQ(normalize_alias_for_add("팀장_Kim2").value(), "팀장_kim2");
}

TEST(AliasRules, AddErrorsUseSeedTexts) {
    EXPECT_EQ(add_error(""), "alias is required");
    EXPECT_EQ(add_error("   "), "alias is required");
    EXPECT_EQ(add_error(std::string(41, 'a')), "alias is too long");
    const std::string charset_error =
        "alias may only contain letters, digits, underscore, and Korean characters";
    EXPECT_EQ(add_error("has space"), charset_error);
    EXPECT_EQ(add_error("dash-ed"), charset_error);
    EXPECT_EQ(add_error("ㄱㄴ"), charset_error);  // Hangul jamo are not syllables
    EXPECT_EQ(add_error("日本"), charset_error);  // CJK ideographs are not allowed
    EXPECT_EQ(add_error("émile"), charset_error);
}

TEST(AliasRules, LengthCountsCharactersNotBytes) {
    std::string forty_hangul;
    for (int i = 0; i < 40; ++i) forty_hangul += "가";  // 120 bytes
    EXPECT_TRUE(normalize_alias_for_add(forty_hangul));
    EXPECT_EQ(add_error(forty_hangul + "가"), "alias is too long");
    EXPECT_TRUE(normalize_alias_for_add(std::string(40, 'a')));
}

TEST(AliasRules, DeleteErrorsUseSeedTexts) {
    EXPECT_EQ(normalize_alias_for_delete(" ").error().message, "alias is required");
    EXPECT_EQ(normalize_alias_for_delete("a b").error().message, "alias format is invalid");
    EXPECT_EQ(normalize_alias_for_delete(std::string(41, 'a')).error().message,
              "alias format is invalid");
    EXPECT_EQ(normalize_alias_for_delete(" ABC ").value(), "abc");
}

TEST(Validation, Roles) {
    EXPECT_TRUE(valid_role("admin"));
    EXPECT_TRUE(valid_role("manager"));
    EXPECT_TRUE(valid_role("user"));
    EXPECT_FALSE(valid_role("Admin"));
    EXPECT_FALSE(valid_role("root"));
    EXPECT_FALSE(valid_role(""));
}

TEST(Validation, Statuses) {
    for (auto s : {"online", "offline", "busy", "away", "meeting"}) EXPECT_TRUE(valid_status(s));
    EXPECT_FALSE(valid_status("sleeping"));
    EXPECT_FALSE(valid_status(""));
}

TEST(Validation, Emails) {
    EXPECT_TRUE(valid_email("a@example.com"));
    EXPECT_TRUE(valid_email("kim.cs+tag@회사.kr"));
    EXPECT_FALSE(valid_email("no-at.example.com"));
    EXPECT_FALSE(valid_email("@example.com"));
    EXPECT_FALSE(valid_email("a@b@c.com"));
    EXPECT_FALSE(valid_email("a@localhost"));
    EXPECT_FALSE(valid_email("a b@example.com"));
    EXPECT_FALSE(valid_email("a@example.com."));
    EXPECT_FALSE(valid_email(std::string(250, 'a') + "@x.co"));
}

}  // namespace
}  // namespace msg::org
