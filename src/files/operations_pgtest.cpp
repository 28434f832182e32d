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

}  // namespace
}  // namespace msg::files
