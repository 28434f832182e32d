#include <boost/asio/io_context.hpp>

#include "chat/operations.hpp"
#include "data/executor.hpp"
#include "files/operations.hpp"
#include "storage/pg/pool.hpp"
#include "testing/co_test.hpp"
#include "testing/pg_database.hpp"

namespace msg::files {
namespace {

CO_TEST(FilesOps, RegisterListAndDownloadRights) {
    pg::Pool pool(ctx.io, testing::test_pool_options(4));
    data::Executor db(pool);
    const std::string tenant = testing::unique_tenant();
    auto users = co_await testing::create_tenant_with_users(pool, tenant, 3);
    const auto alice = users[0], bob = users[1], outsider = users[2];
    chat::CreateRoom::Request room_req{tenant, alice, "r", "group", {bob}};
    auto room = co_await db.run<chat::CreateRoom>(std::move(room_req));
    CO_ASSERT(room.has_value());

    const std::string prefix = "tenants/" + tenant + "/rooms/" + std::to_string(room->id) + "/";
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 3; ++i) {
        RegisterFile::Request req{tenant,      room->id, alice, prefix + std::to_string(i) + ".png",
                                  "image/png", 10 + i,   "",    "pic.png"};
        auto f = co_await db.run<RegisterFile>(std::move(req));
        CO_ASSERT(f.has_value());
        EXPECT_EQ(f->size_bytes, 10 + i);
        ids.push_back(f->id);
    }
    RegisterFile::Request again{tenant, room->id, bob, prefix + "0.png", "image/png", 10, "", "x"};
    auto dup = co_await db.run<RegisterFile>(std::move(again));
    CO_ASSERT(!dup.has_value());
    EXPECT_EQ(dup.error().message, "file is already registered");
    RegisterFile::Request foreign{tenant,      room->id, outsider, prefix + "9.png",
                                  "image/png", 1,        "",       "x"};
    auto denied = co_await db.run<RegisterFile>(std::move(foreign));
    CO_ASSERT(!denied.has_value());
    EXPECT_EQ(denied.error().message, "room access denied");

    ListRoomFiles::Request page{tenant, room->id, std::nullopt, 2, bob};
    auto first = co_await db.run<ListRoomFiles>(page);
    CO_ASSERT(first && first->items.size() == 2);
    EXPECT_EQ(first->items[0].id, ids[2]);  // newest first
    page.before_id = first->items[1].id;
    auto rest = co_await db.run<ListRoomFiles>(page);
    CO_ASSERT(rest && rest->items.size() == 1);
    EXPECT_EQ(rest->items[0].id, ids[0]);
    page.before_id = rest->items[0].id;
    auto none = co_await db.run<ListRoomFiles>(page);  // past the end: empty, still a member
    CO_ASSERT(none);
    EXPECT_TRUE(none->items.empty());
    // Membership is checked in the listing statement itself.
    ListRoomFiles::Request peek{tenant, room->id, std::nullopt, 10, outsider};
    auto peeked = co_await db.run<ListRoomFiles>(peek);
    CO_ASSERT(!peeked);
    EXPECT_EQ(peeked.error().message, "room access denied");

    // Not a coroutine; takes the key by reference (no temporary inside the co_await).
    auto can = [&](std::int64_t user, const std::string& key) {
        return db.run<CanDownload>(CanDownload::Request{tenant, user, key});
    };
    const std::string registered = prefix + "1.png";
    const std::string unknown = prefix + "none.png";
    auto bob_can = co_await can(bob, registered);
    EXPECT_TRUE(bob_can->allowed);
    auto outsider_cannot = co_await can(outsider, registered);
    EXPECT_FALSE(outsider_cannot->allowed);
    auto nobody_unknown = co_await can(alice, unknown);
    EXPECT_FALSE(nobody_unknown->allowed);

    // A note's file: its sender and recipients, nobody else; stored with or without prefix.
    {
        auto c = co_await pool.acquire();
        auto note = co_await c->query(
            "INSERT INTO notes (tenant_id, sender_id, title) VALUES ($1, $2, 't') RETURNING id",
            tenant, bob);
        const auto note_id = note.int64(0, 0);
        co_await c->query(
            "INSERT INTO note_recipients (tenant_id, note_id, user_id, recipient_type, position)"
            " VALUES ($1, $2, $3, 'bcc', 0)",
            tenant, note_id, outsider);
        co_await c->query(
            "INSERT INTO note_files (tenant_id, note_id, position, file_name, object_key)"
            " VALUES ($1, $2, 0, 'n.pdf', 'notes/n.pdf')",
            tenant, note_id);
    }
    const std::string note_key = "tenants/" + tenant + "/notes/n.pdf";
    auto sender = co_await can(bob, note_key);
    EXPECT_TRUE(sender->allowed);
    auto recipient = co_await can(outsider, note_key);
    EXPECT_TRUE(recipient->allowed);
    auto stranger = co_await can(alice, note_key);
    EXPECT_FALSE(stranger->allowed);
}

// A registration with a thumbnail key is pending and writes its `file.registered` work order in
// the same statement; the thumbnail finishes once (a second finish — a redelivery — changes
// nothing), or fails to "none" with its key cleared.
CO_TEST(FilesOps, ThumbnailIsPendingUntilFinishedOnce) {
    pg::Pool pool(ctx.io, testing::test_pool_options(4));
    data::Executor db(pool);
    const std::string tenant = testing::unique_tenant();
    auto users = co_await testing::create_tenant_with_users(pool, tenant, 1);
    chat::CreateRoom::Request room_req{tenant, users[0], "r", "group", {}};
    auto room = co_await db.run<chat::CreateRoom>(std::move(room_req));
    CO_ASSERT(room.has_value());
    const std::string prefix = "tenants/" + tenant + "/rooms/" + std::to_string(room->id) + "/";

    std::vector<FileObject> files;
    for (const char* name : {"a", "b", "c"}) {
        const std::string thumb = std::string(name) == "c" ? "" : prefix + name + "_thumb.jpg";
        RegisterFile::Request req{tenant,      room->id, users[0], prefix + name + ".png",
                                  "image/png", 10,       thumb,    "pic.png"};
        auto f = co_await db.run<RegisterFile>(std::move(req));
        CO_ASSERT(f.has_value());
        files.push_back(*f);
    }
    EXPECT_EQ(files[0].thumbnail_status, "pending");
    EXPECT_EQ(files[0].thumbnail_key, prefix + "a_thumb.jpg");
    EXPECT_EQ(files[2].thumbnail_status, "none");  // no key: nothing to make
    {
        auto c = co_await pool.acquire();
        auto events = co_await c->query(
            "SELECT (payload->>'file_id')::bigint, payload->>'thumbnail_key' FROM outbox"
            " WHERE tenant_id = $1 AND topic = 'file.registered' ORDER BY id",
            tenant);
        CO_ASSERT(events.size() == 3);  // every registration, with or without a thumbnail
        EXPECT_EQ(events.int64(0, 0), files[0].id);
        EXPECT_EQ(events.string(0, 1), prefix + "a_thumb.jpg");
        EXPECT_EQ(events.string(2, 1), "");
    }

    auto job = co_await db.run<ThumbnailJob>(tenant, files[0].id);
    CO_ASSERT(job && job->found);
    EXPECT_EQ(job->object_key, prefix + "a.png");
    EXPECT_EQ(job->thumbnail_status, "pending");
    EXPECT_EQ(job->size_bytes, 10);
    auto other_tenant = co_await db.run<ThumbnailJob>(testing::unique_tenant(), files[0].id);
    CO_ASSERT(other_tenant.has_value());
    EXPECT_FALSE(other_tenant->found);

    auto made = co_await db.run<FinishThumbnail>(tenant, files[0].id, true);
    CO_ASSERT(made && made->updated);
    EXPECT_EQ(made->file.thumbnail_status, "ready");
    EXPECT_EQ(made->file.thumbnail_key, prefix + "a_thumb.jpg");
    auto again = co_await db.run<FinishThumbnail>(tenant, files[0].id, false);
    CO_ASSERT(again.has_value());
    EXPECT_FALSE(again->updated);  // not pending any more: the ready thumbnail stays

    auto failed = co_await db.run<FinishThumbnail>(tenant, files[1].id, false);
    CO_ASSERT(failed && failed->updated);
    EXPECT_EQ(failed->file.thumbnail_status, "none");
    EXPECT_EQ(failed->file.thumbnail_key, "");
    ListRoomFiles::Request page{tenant, room->id, std::nullopt, 10, users[0]};
    auto listed = co_await db.run<ListRoomFiles>(page);
    CO_ASSERT(listed && listed->items.size() == 3);
    EXPECT_EQ(listed->items[2].thumbnail_status, "ready");  // newest first: a is last
    EXPECT_EQ(listed->items[1].thumbnail_status, "none");
}

}  // namespace
}  // namespace msg::files
