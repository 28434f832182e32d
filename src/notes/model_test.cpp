#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include "notes/handlers.hpp"
#include "notes/model.hpp"

namespace msg::notes {
namespace {

TEST(NotesModel, FirstListWinsAndOrderIsKept) {
    auto r = merge_recipients({3, 1, 3}, {1, 2}, {2, 4, 3});
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r[0].user_id, 3);
    EXPECT_EQ(r[0].type, "to");
    EXPECT_EQ(r[1].user_id, 1);
    EXPECT_EQ(r[1].type, "to");
    EXPECT_EQ(r[2].user_id, 2);
    EXPECT_EQ(r[2].type, "cc");
    EXPECT_EQ(r[3].user_id, 4);
    EXPECT_EQ(r[3].type, "bcc");
    EXPECT_TRUE(merge_recipients({}, {}, {}).empty());
}

core::Result<std::vector<NoteFile>> files_of(std::string_view text) {
    return read_files(boost::json::parse(text).as_object());
}

TEST(NotesModel, FilesAreBounded) {
    auto ok = files_of(
        R"({"files":[{"file_name":"a.png","object_key":"notes/a.png","content_type":"image/png",)"
        R"("size_bytes":10}]})");
    ASSERT_TRUE(ok);
    ASSERT_EQ(ok->size(), 1u);
    EXPECT_EQ((*ok)[0].size_bytes, 10);
    EXPECT_TRUE(files_of(R"({})")->empty());
    EXPECT_EQ(files_of(R"({"files":"x"})").error().message, "files must be an array of objects");
    EXPECT_EQ(files_of(R"({"files":[1]})").error().message, "files must be an array of objects");
    EXPECT_EQ(files_of(R"({"files":[{"file_name":"a"}]})").error().message,
              "object_key is required");
    EXPECT_EQ(files_of(R"({"files":[{"object_key":"k","size_bytes":-1}]})").error().message,
              "size_bytes must not be negative");
    EXPECT_EQ(files_of(R"({"files":[{"object_key":"a\u0001b"}]})").error().message,
              "object_key is invalid");
    std::string many = R"({"files":[)";
    for (std::size_t i = 0; i <= kMaxFiles; ++i) many += std::string(i ? "," : "") + "{}";
    EXPECT_EQ(files_of(many + "]}").error().message, "files has too many items");
}

TEST(NotesModel, InboxItemJsonHasTheSeedFields) {
    InboxItem item;
    item.note_id = 5;
    auto out = to_json(item);
    for (auto key : {"note_id", "sender_user_id", "recipient_type", "title", "body", "file_count",
                     "is_read", "created_at"}) {
        EXPECT_TRUE(out.contains(key)) << key;
    }
}

}  // namespace
}  // namespace msg::notes
