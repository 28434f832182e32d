#include <boost/asio/io_context.hpp>

#include "auth/password.hpp"
#include "chat/operations.hpp"
#include "data/executor.hpp"
#include "session/operations.hpp"
#include "storage/pg/pool.hpp"
#include "testing/co_test.hpp"
#include "testing/pg_database.hpp"

namespace msg::session {
namespace {

struct Fixture {
    explicit Fixture(boost::asio::io_context& io)
        : pool(io, testing::test_pool_options(4)), db(pool) {}

    core::Task<void> setup(int n) {
        tenant = testing::unique_tenant("sess");
        users = co_await testing::create_tenant_with_users(pool, tenant, n);
    }

    // string_view parameters: a literal argument must not become a std::string temporary
    // inside the caller's co_await expression (GCC 12).
    core::Task<DeviceSession> login(std::int64_t user, std::string_view device,
                                    std::string_view token) {
        const std::string hash = auth::sha256_hex(token);
        std::vector<std::string> allowed{tenant};
        std::string device_id(device);
        auto r = co_await db.run<DeviceLogin>(tenant, user, std::move(device_id), "Laptop", hash,
                                              std::move(allowed));
        co_return r.value();
    }

    core::Task<std::optional<std::int64_t>> validate(std::int64_t user, std::string_view session_id,
                                                     std::string_view token) {
        const std::string hash = auth::sha256_hex(token);
        std::string id(session_id);
        auto r = co_await db.run<ValidateDevice>(tenant, user, std::move(id), hash);
        if (!r.value().valid) co_return std::nullopt;
        co_return r->generation;
    }

    pg::Pool pool;
    data::Executor db;
    std::string tenant;
    std::vector<std::int64_t> users;
};

const std::string kTokenA(64, 'a');
const std::string kTokenB(64, 'b');

CO_TEST(SessionOps, LoginKeepsTheSessionIdAndRotatesTheToken) {
    Fixture f(ctx.io);
    co_await f.setup(2);
    auto first = co_await f.login(f.users[0], "laptop", kTokenA);
    EXPECT_EQ(first.generation, 1);
    EXPECT_EQ(first.session_id.size(), 36u);
    EXPECT_TRUE(first.created_at.ends_with("Z"));
    auto valid = co_await f.validate(f.users[0], first.session_id, kTokenA);
    EXPECT_EQ(valid, 1);

    auto second = co_await f.login(f.users[0], "laptop", kTokenB);
    EXPECT_EQ(second.session_id, first.session_id);  // stable per device
    EXPECT_EQ(second.generation, 2);
    auto old_token = co_await f.validate(f.users[0], first.session_id, kTokenA);
    EXPECT_FALSE(old_token.has_value());
    auto new_token = co_await f.validate(f.users[0], first.session_id, kTokenB);
    EXPECT_EQ(new_token, 2);

    // Another device is another session; another user cannot use this one.
    auto phone = co_await f.login(f.users[0], "phone", kTokenA);
    EXPECT_NE(phone.session_id, first.session_id);
    auto wrong_user = co_await f.validate(f.users[1], first.session_id, kTokenB);
    EXPECT_FALSE(wrong_user.has_value());

    // The token is stored hashed, never in clear.
    auto c = co_await f.pool.acquire();
    auto rows = co_await c->query(
        "SELECT count(*) FROM device_sessions WHERE tenant_id = $1"
        " AND (position(convert_to($2, 'UTF8') in token_hash) > 0 OR encode(token_hash, 'hex') = "
        "$2)",
        f.tenant, kTokenB);
    EXPECT_EQ(rows.int64(0, 0), 0);
}

CO_TEST(SessionOps, ValidationIsTenantScopedAndNeedsAnActiveTenant) {
    Fixture f(ctx.io);
    co_await f.setup(1);
    auto s = co_await f.login(f.users[0], "laptop", kTokenA);
    Fixture other(ctx.io);
    co_await other.setup(1);
    const std::string hash = auth::sha256_hex(kTokenA);
    auto foreign = co_await f.db.run<ValidateDevice>(other.tenant, f.users[0], s.session_id, hash);
    EXPECT_FALSE(foreign->valid);

    {
        auto c = co_await f.pool.acquire();
        co_await c->query("UPDATE tenants SET is_active = false WHERE tenant_id = $1", f.tenant);
    }
    auto inactive = co_await f.validate(f.users[0], s.session_id, kTokenA);
    EXPECT_FALSE(inactive.has_value());
}

CO_TEST(SessionOps, LogoutDeactivatesOnlyTheCallersSession) {
    Fixture f(ctx.io);
    co_await f.setup(2);
    auto mine = co_await f.login(f.users[0], "laptop", kTokenA);
    auto theirs = co_await f.login(f.users[1], "laptop", kTokenB);

    std::optional<std::string> their_id = theirs.session_id;
    std::optional<std::string> no_device;
    auto refused = co_await f.db.run<DeviceLogout>(f.tenant, f.users[0], their_id, no_device);
    EXPECT_EQ(refused.error().message, "session not found");
    auto still = co_await f.validate(f.users[1], theirs.session_id, kTokenB);
    EXPECT_TRUE(still.has_value());

    std::optional<std::string> no_session;
    std::optional<std::string> device = "laptop";
    auto out = co_await f.db.run<DeviceLogout>(f.tenant, f.users[0], no_session, device);
    CO_ASSERT(out.has_value());
    EXPECT_EQ(out->session_id, mine.session_id);
    EXPECT_EQ(out->generation, 2);
    auto gone = co_await f.validate(f.users[0], mine.session_id, kTokenA);
    EXPECT_FALSE(gone.has_value());

    // A new login on the device brings it back with a new generation.
    auto again = co_await f.login(f.users[0], "laptop", kTokenB);
    EXPECT_EQ(again.generation, 3);
    auto back = co_await f.validate(f.users[0], mine.session_id, kTokenB);
    EXPECT_EQ(back, 3);
}

CO_TEST(SessionOps, ChatNotificationsNeedMembersAndAMessageOfTheRoom) {
    Fixture f(ctx.io);
    co_await f.setup(4);
    const auto a = f.users[0], b = f.users[1], c = f.users[2], outsider = f.users[3];
    std::vector<std::int64_t> members{b, c};
    auto room = co_await f.db.run<chat::CreateRoom>(f.tenant, a, "room", "group", members);
    std::vector<std::int64_t> just_a{};
    const std::vector<std::string> no_tokens;
    auto other_room = co_await f.db.run<chat::CreateRoom>(f.tenant, a, "other", "group", just_a);
    auto message = co_await f.db.run<chat::SendMessage>(f.tenant, other_room->id, a, "hi", "{}",
                                                        std::nullopt, no_tokens);
    CO_ASSERT(room && other_room && message);

    std::vector<std::int64_t> to_b_c{b, c};
    std::optional<std::int64_t> no_message;
    auto not_member = co_await f.db.run<CreateChatNotifications>(f.tenant, outsider, room->id,
                                                                 no_message, "t", "b", to_b_c);
    EXPECT_EQ(not_member.error().message, "room access denied");

    std::vector<std::int64_t> to_outsider{b, outsider};
    auto bad_recipient = co_await f.db.run<CreateChatNotifications>(
        f.tenant, a, room->id, no_message, "t", "b", to_outsider);
    EXPECT_EQ(bad_recipient.error().message, "recipient_ids must be members of the room");

    std::optional<std::int64_t> elsewhere = message->message.id;
    auto wrong_message = co_await f.db.run<CreateChatNotifications>(f.tenant, a, room->id,
                                                                    elsewhere, "t", "b", to_b_c);
    EXPECT_EQ(wrong_message.error().message, "message not found");

    auto ok = co_await f.db.run<CreateChatNotifications>(f.tenant, a, room->id, no_message, "title",
                                                         "body", to_b_c);
    CO_ASSERT(ok.has_value());
    EXPECT_TRUE(ok->created_at.ends_with("Z"));
    auto conn = co_await f.pool.acquire();
    auto rows = co_await conn->query(
        "SELECT recipient_user_id FROM chat_notifications WHERE tenant_id = $1 ORDER BY id",
        f.tenant);
    CO_ASSERT(rows.size() == 2);  // only the successful call wrote rows
    EXPECT_EQ(rows.int64(0, 0), b);
    EXPECT_EQ(rows.int64(1, 0), c);
}

// The notifications consumer's write: mentioned members who are offline, by name, email local
// part or alias; never the sender, an online member or a non-member; once per message.
CO_TEST(SessionOps, MentionedOfflineMembersAreNotifiedOnce) {
    Fixture f(ctx.io);
    co_await f.setup(6);
    const auto a = f.users[0], b = f.users[1], c = f.users[2], d = f.users[3], e = f.users[4];
    std::vector<std::int64_t> members{b, c, d, e};  // users[5] (user5): not a member
    auto room = co_await f.db.run<chat::CreateRoom>(f.tenant, a, "room", "group", members);
    CO_ASSERT(room.has_value());
    const std::vector<std::string> no_tokens;
    auto message = co_await f.db.run<chat::SendMessage>(f.tenant, room->id, a, "@user1 hi", "{}",
                                                        std::nullopt, no_tokens);
    CO_ASSERT(message.has_value());
    {
        auto conn = co_await f.pool.acquire();
        co_await conn->query("UPDATE users SET status = 'online' WHERE tenant_id = $1 AND id = $2",
                             f.tenant, c);
        co_await conn->query(
            "INSERT INTO user_aliases (tenant_id, user_id, alias) VALUES ($1, $2, '디자인')",
            f.tenant, d);
    }
    const std::int64_t message_id = message->message.id;
    auto notify = [&](std::vector<std::string> tokens) {
        return f.db.run<NotifyMentioned>(f.tenant, room->id, message_id, a, std::move(tokens),
                                         "the body");
    };
    // b by email local part only, c by name (online: not notified), d by alias, e by name,
    // the outsider and the sender by name.
    std::vector<std::string> tokens{"u1", "user2", "디자인", "user4", "user5", "user0"};
    auto first = co_await notify(std::move(tokens));
    CO_ASSERT(first.has_value());
    std::vector<std::int64_t> notified;
    for (const auto& n : first->notified) {
        notified.push_back(n.recipient_user_id);
        EXPECT_TRUE(n.created_at.ends_with("Z"));
    }
    std::sort(notified.begin(), notified.end());
    EXPECT_EQ(notified, (std::vector<std::int64_t>{b, d, e}));
    std::vector<std::string> again_tokens{"user1", "디자인"};
    auto again = co_await notify(std::move(again_tokens));  // a redelivered event
    CO_ASSERT(again.has_value());
    EXPECT_TRUE(again->notified.empty());
    std::vector<std::string> b_only{"user1"};
    auto other_message = co_await f.db.run<NotifyMentioned>(f.tenant, room->id, message_id + 999, a,
                                                            std::move(b_only), "x");
    CO_ASSERT(other_message.has_value());
    EXPECT_TRUE(other_message->notified.empty());  // not a message of the room
    auto conn = co_await f.pool.acquire();
    auto rows = co_await conn->query(
        "SELECT count(*), min(kind), min(title) FROM chat_notifications WHERE tenant_id = $1",
        f.tenant);
    EXPECT_EQ(rows.int64(0, 0), 3);
    EXPECT_EQ(rows.string(0, 1), "mention");
}

}  // namespace
}  // namespace msg::session
