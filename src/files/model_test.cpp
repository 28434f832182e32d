#include <gtest/gtest.h>

#include "files/model.hpp"

namespace msg::files {
namespace {

TEST(FilesModel, KeysResolveUnderTheTenant) {
    auto room = resolve_key("acme", 5, " /rooms/12/사진 1.png ");
    ASSERT_TRUE(room);
    EXPECT_EQ(room->stored, "tenants/acme/rooms/12/사진 1.png");
    EXPECT_EQ(room->room_id, std::optional<std::int64_t>(12));
    auto prefixed = resolve_key("acme", 5, "tenants/acme/rooms/12/a.png");  // seed: accepted
    ASSERT_TRUE(prefixed);
    EXPECT_EQ(prefixed->stored, "tenants/acme/rooms/12/a.png");
    auto own = resolve_key("acme", 5, "users/5/avatar.jpg");
    ASSERT_TRUE(own);
    EXPECT_FALSE(own->room_id);
    auto note = resolve_key("acme", 5, "notes/5/y.pdf");
    ASSERT_TRUE(note);
    EXPECT_TRUE(note->note);
    EXPECT_EQ(note->stored, "tenants/acme/notes/5/y.pdf");
    // Anyone's note objects may be named for reading (the note decides who may).
    auto theirs = resolve_key("acme", 5, "notes/6/y.pdf", KeyUse::read);
    ASSERT_TRUE(theirs);
    EXPECT_TRUE(theirs->note);
    EXPECT_TRUE(resolve_key("acme", 5, "notes/old-style.pdf", KeyUse::read));
}

TEST(FilesModel, NotesAreWrittenIntoTheUploadersFolderOnly) {
    const std::string wrong_place =
        "object_key must start with rooms/<room_id>/, users/<your id>/ or notes/<your id>/";
    EXPECT_EQ(resolve_key("acme", 5, "notes/6/y.pdf").error().message, wrong_place);
    EXPECT_EQ(resolve_key("acme", 5, "notes/y.pdf").error().message, wrong_place);
    EXPECT_EQ(resolve_key("acme", 5, "notes/x/y.pdf").error().message, wrong_place);
}

TEST(FilesModel, BadKeysAreRefused) {
    const std::string wrong_place =
        "object_key must start with rooms/<room_id>/, users/<your id>/ or notes/<your id>/";
    EXPECT_EQ(resolve_key("acme", 5, "").error().message, "object_key is required");
    EXPECT_EQ(resolve_key("acme", 5, "users/6/a.jpg").error().message, wrong_place);  // not own
    EXPECT_EQ(resolve_key("acme", 5, "tenants/other/rooms/1/a").error().message, wrong_place);
    EXPECT_EQ(resolve_key("acme", 5, "rooms/abc/a.png").error().message, wrong_place);
    EXPECT_EQ(resolve_key("acme", 5, "rooms/0/a.png").error().message, wrong_place);
    EXPECT_EQ(resolve_key("acme", 5, "rooms/12").error().message, wrong_place);
    for (const char* bad : {"rooms/1/../2/a.png", "rooms/1/a\\b", "rooms/1//a", "rooms/1/a\tb"}) {
        EXPECT_EQ(resolve_key("acme", 5, bad).error().message, "object_key is invalid") << bad;
    }
    EXPECT_EQ(resolve_key("acme", 5, "rooms/1/" + std::string(600, 'a')).error().message,
              "object_key is invalid");
}

TEST(FilesModel, ThumbnailKeysFollowTheSeed) {
    EXPECT_EQ(thumbnail_key_for("tenants/d/rooms/1/image.png"),
              "tenants/d/rooms/1/image_thumb.jpg");
    EXPECT_EQ(thumbnail_key_for("tenants/d/rooms/1/archive.tar.gz"),
              "tenants/d/rooms/1/archive.tar_thumb.jpg");
    EXPECT_EQ(thumbnail_key_for("tenants/d/rooms/1/noext"), "tenants/d/rooms/1/noext_thumb.jpg");
    EXPECT_EQ(thumbnail_key_for("tenants/d/rooms/v1.2/noext"),
              "tenants/d/rooms/v1.2/noext_thumb.jpg");
    // No room left for the suffix under the 512-byte key limit: no thumbnail key at all.
    const std::string longest = "tenants/d/rooms/1/" + std::string(512 - 18, 'a');
    EXPECT_EQ(thumbnail_key_for(longest), "");
    EXPECT_EQ(thumbnail_key_for(longest.substr(0, 502)).size(), 512u);
}

}  // namespace
}  // namespace msg::files
