#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>

#include "chat/operations.hpp"
#include "chat/send_batcher.hpp"
#include "core/event.hpp"
#include "data/executor.hpp"
#include "org/operations.hpp"
#include "search/tokenizer.hpp"
#include "storage/pg/pool.hpp"
#include "testing/co_test.hpp"
#include "testing/pg_database.hpp"

namespace msg::chat {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

const std::vector<std::string> kNoTokens;  // sends whose search does not matter here

struct Fixture {
    explicit Fixture(asio::io_context& io) : pool(io, testing::test_pool_options(8)), db(pool) {}

    /// A tenant with `n` users; fills `users`.
    core::Task<void> setup(int n) {
        tenant = testing::unique_tenant("chat");
        {
            auto c = co_await pool.acquire();
            co_await c->query("INSERT INTO tenants (tenant_id, name) VALUES ($1, $1)", tenant);
        }
        auto org = co_await db.run<org::CreateOrgUnit>(tenant, std::nullopt, "HQ");
        for (int i = 0; i < n; ++i) {
            const std::string email = "u" + std::to_string(i) + "@example.com";
            const std::string name = i == 1 ? "김철수" : "user" + std::to_string(i);
            org::CreateUser::Request req{tenant, org->id,   email, name, "",
                                         "user", "offline", "",    "h"};
            auto u = co_await db.run<org::CreateUser>(std::move(req));
            users.push_back(u->id);
        }
    }

    /// room(a, b, c): a group room created by `a`. The vector is built here, in a plain
    /// function, never as a temporary in the caller's co_await expression (GCC 12).
    template <class... Ids>
    core::Task<std::int64_t> room(std::int64_t creator, Ids... others) {
        return make_room(creator, std::vector<std::int64_t>{others...}, "group");
    }
    core::Task<std::int64_t> direct(std::int64_t creator, std::int64_t peer) {
        return make_room(creator, std::vector<std::int64_t>{peer}, "direct");
    }

    core::Task<std::int64_t> make_room(std::int64_t creator, std::vector<std::int64_t> others,
                                       std::string type) {
        auto r = co_await db.run<CreateRoom>(tenant, creator, "room", std::move(type),
                                             std::move(others));
        co_return r.value().id;
    }

    core::Task<Message> send(std::int64_t room_id, std::int64_t sender, std::string_view body) {
        std::string text(body);
        auto tokens = search::index_tokens(text);
        auto r =
            co_await db.run<SendMessage>(tenant, room_id, sender, std::move(text),
                                         R"({"emojis":null})", std::nullopt, std::move(tokens));
        co_return r.value().message;
    }

    pg::Pool pool;
    data::Executor db;
    std::string tenant;
    std::vector<std::int64_t> users;
};

CO_TEST(ChatOps, RoomsCheckMembersAndDeduplicateDirectPairs) {
    Fixture f(ctx.io);
    co_await f.setup(3);
    auto group = co_await f.room(f.users[0], f.users[1], f.users[2]);
    auto m = co_await f.db.run<Membership>(f.tenant, group, f.users[2]);
    EXPECT_TRUE(m->member);
    EXPECT_EQ(m->room_type, "group");

    const std::vector<std::int64_t> to_1{f.users[1]}, to_0{f.users[0]};
    auto d1 = co_await f.db.run<CreateRoom>(f.tenant, f.users[0], "dm", "direct", to_1);
    auto d2 = co_await f.db.run<CreateRoom>(f.tenant, f.users[1], "dm", "direct", to_0);
    CO_ASSERT(d1 && d2);
    EXPECT_TRUE(d1->created);
    EXPECT_FALSE(d2->created);
    EXPECT_EQ(d1->id, d2->id);

    // Users of another tenant (or nobody) cannot be members.
    Fixture other(ctx.io);
    co_await other.setup(1);
    const std::vector<std::int64_t> foreigners{other.users[0]};
    auto bad = co_await f.db.run<CreateRoom>(f.tenant, f.users[0], "x", "group", foreigners);
    EXPECT_EQ(bad.error().message, "unknown member");
    auto bad_add = co_await f.db.run<AddMember>(f.tenant, group, other.users[0], f.users[0]);
    EXPECT_EQ(bad_add.error().message, "unknown member");
    auto outsider = co_await f.db.run<Membership>(other.tenant, group, other.users[0]);
    EXPECT_FALSE(outsider->member);
}

CO_TEST(ChatOps, AddMemberChecksTheActorInTheSameStatement) {
    Fixture f(ctx.io);
    co_await f.setup(4);
    auto group = co_await f.room(f.users[0], f.users[1]);
    // Only a member adds; a non-member's add writes nothing.
    auto outsider = co_await f.db.run<AddMember>(f.tenant, group, f.users[3], f.users[2]);
    CO_ASSERT(!outsider);
    EXPECT_EQ(outsider.error().message, "room access denied");
    auto still_out = co_await f.db.run<Membership>(f.tenant, group, f.users[3]);
    EXPECT_FALSE(still_out->member);
    auto added = co_await f.db.run<AddMember>(f.tenant, group, f.users[2], f.users[1]);
    CO_ASSERT(added);
    EXPECT_TRUE(added->added);
    auto again = co_await f.db.run<AddMember>(f.tenant, group, f.users[2], f.users[1]);
    CO_ASSERT(again);
    EXPECT_FALSE(again->added);
    // Removed, the member can no longer add anyone.
    RemoveMember::Request leave{f.tenant, group, f.users[1], f.users[1], false};
    auto left = co_await f.db.run<RemoveMember>(std::move(leave));
    CO_ASSERT(left);
    auto after_leaving = co_await f.db.run<AddMember>(f.tenant, group, f.users[3], f.users[1]);
    CO_ASSERT(!after_leaving);
    EXPECT_EQ(after_leaving.error().message, "room access denied");
    // No such room; a direct room takes nobody.
    auto nowhere = co_await f.db.run<AddMember>(f.tenant, group + 1000, f.users[3], f.users[0]);
    CO_ASSERT(!nowhere);
    EXPECT_EQ(nowhere.error().message, "room access denied");
    const std::vector<std::int64_t> to_1{f.users[1]};
    auto dm = co_await f.db.run<CreateRoom>(f.tenant, f.users[0], "dm", "direct", to_1);
    CO_ASSERT(dm);
    auto third = co_await f.db.run<AddMember>(f.tenant, dm->id, f.users[3], f.users[0]);
    CO_ASSERT(!third);
    EXPECT_EQ(third.error().message, "cannot add members to a direct room");
}

CO_TEST(ChatOps, SendAssignsSeqAndRefusesNonMembers) {
    Fixture f(ctx.io);
    co_await f.setup(3);
    auto room = co_await f.room(f.users[0], f.users[1]);
    auto a = co_await f.send(room, f.users[0], "one");
    auto b = co_await f.send(room, f.users[1], "two");
    EXPECT_EQ(a.seq, 1);
    EXPECT_EQ(b.seq, 2);
    EXPECT_EQ(b.tenant_id, f.tenant);
    auto denied = co_await f.db.run<SendMessage>(f.tenant, room, f.users[2], "x", "{}",
                                                 std::nullopt, kNoTokens);
    EXPECT_EQ(denied.error().message, "room access denied");
    auto c = co_await f.send(room, f.users[0], "three");
    EXPECT_EQ(c.seq, 3);  // the refused send left no gap
    auto outbox_rows = co_await (co_await f.pool.acquire())
                           ->query("SELECT count(*) FROM outbox WHERE tenant_id = $1", f.tenant);
    EXPECT_EQ(outbox_rows.int64(0, 0), 3);
}

CO_TEST(ChatOps, ClientMsgIdMakesSendsIdempotent) {
    Fixture f(ctx.io);
    co_await f.setup(2);
    auto room = co_await f.room(f.users[0], f.users[1]);
    const std::optional<std::string> c1 = "c-1";
    auto first =
        co_await f.db.run<SendMessage>(f.tenant, room, f.users[0], "hi", "{}", c1, kNoTokens);
    auto again =
        co_await f.db.run<SendMessage>(f.tenant, room, f.users[0], "hi", "{}", c1, kNoTokens);
    CO_ASSERT(first && again);
    EXPECT_FALSE(first->duplicate);
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->message.id, first->message.id);
    // Another sender may use the same client id.
    auto other =
        co_await f.db.run<SendMessage>(f.tenant, room, f.users[1], "hi", "{}", c1, kNoTokens);
    EXPECT_FALSE(other->duplicate);
    EXPECT_EQ(other->message.seq, 2);
}

struct Join {
    explicit Join(asio::io_context& io, int n) : pending(n), done(io) {}
    int pending;
    asio::steady_timer done;
};

core::Task<void> sender(Fixture* f, Join* join, std::int64_t room, std::int64_t user, int count,
                        int duplicate_every) {
    for (int i = 0; i < count; ++i) {
        std::optional<std::string> client_id;
        if (duplicate_every > 0) client_id = "k" + std::to_string(i / duplicate_every);
        const std::string body = "m" + std::to_string(i);
        co_await f->db.run<SendMessage>(f->tenant, room, user, body, R"({"emojis":null})",
                                        client_id, kNoTokens);
    }
    if (--join->pending == 0) join->done.cancel();
}

CO_TEST(ChatOps, ConcurrentSendersGetGapFreeUniqueSeqs) {
    Fixture f(ctx.io);
    co_await f.setup(4);
    auto room = co_await f.room(f.users[0], f.users[1], f.users[2], f.users[3]);
    Join join(ctx.io, 8);
    join.done.expires_after(120s);
    for (int s = 0; s < 8; ++s) {
        // Senders 0-3 send 25 distinct messages; 4-7 repeat each client id twice (dupes).
        asio::co_spawn(ctx.io, sender(&f, &join, room, f.users[s % 4], 25, s < 4 ? 0 : 2),
                       asio::detached);
    }
    co_await join.done.async_wait(asio::as_tuple(asio::use_awaitable));
    CO_ASSERT(join.pending == 0);
    ListMessages::Request q{f.tenant, room, 1000, std::nullopt, std::int64_t{0}, f.users[0]};
    auto all = co_await f.db.run<ListMessages>(q);
    // 4 × 25 distinct + senders 4-7 (users 0-3 again): 13 distinct client ids each.
    const std::size_t expected = 4 * 25 + 4 * 13;
    CO_ASSERT(all->items.size() == expected);
    for (std::size_t i = 0; i < all->items.size(); ++i) {
        EXPECT_EQ(all->items[i].seq, static_cast<std::int64_t>(i + 1));
    }
}

CO_TEST(ChatOps, ListingByCursorAndAfterSeq) {
    Fixture f(ctx.io);
    co_await f.setup(2);
    auto room = co_await f.room(f.users[0], f.users[1]);
    for (int i = 1; i <= 5; ++i) {
        const std::string body = "m" + std::to_string(i);
        co_await f.send(room, f.users[0], body);
    }
    ListMessages::Request newest{f.tenant, room, 2, std::nullopt, std::nullopt, f.users[1]};
    auto page1 = co_await f.db.run<ListMessages>(newest);
    CO_ASSERT(page1->items.size() == 2);
    EXPECT_EQ(page1->items[0].seq, 5);
    EXPECT_EQ(page1->items[1].seq, 4);
    newest.before_seq = 4;
    auto page2 = co_await f.db.run<ListMessages>(newest);
    EXPECT_EQ(page2->items[0].seq, 3);
    ListMessages::Request gap{f.tenant, room, 10, std::nullopt, std::int64_t{2}, f.users[1]};
    auto missed = co_await f.db.run<ListMessages>(gap);
    CO_ASSERT(missed->items.size() == 3);
    EXPECT_EQ(missed->items[0].seq, 3);  // oldest first
    EXPECT_EQ(missed->items[2].seq, 5);
}

CO_TEST(ChatOps, WatermarkUnreadAndReaders) {
    Fixture f(ctx.io);
    co_await f.setup(3);
    const auto alice = f.users[0], bob = f.users[1], carol = f.users[2];
    auto room = co_await f.room(alice, bob, carol);
    auto m1 = co_await f.send(room, alice, "1");
    auto m2 = co_await f.send(room, alice, "2");
    auto m3 = co_await f.send(room, bob, "3");

    EXPECT_EQ((co_await f.db.run<UnreadCount>(f.tenant, room, carol))->count, 3);
    EXPECT_EQ((co_await f.db.run<UnreadCount>(f.tenant, room, alice))->count, 1);  // bob's
    EXPECT_EQ((co_await f.db.run<UnreadCount>(f.tenant, room, bob))->count, 0);    // sent last
    auto none = co_await f.db.run<LastRead>(f.tenant, room, carol);
    EXPECT_FALSE(none->message_id);

    auto read = co_await f.db.run<MarkRead>(f.tenant, room, carol, m2.id);
    EXPECT_TRUE(read->moved);
    EXPECT_EQ((co_await f.db.run<UnreadCount>(f.tenant, room, carol))->count, 1);
    auto back = co_await f.db.run<MarkRead>(f.tenant, room, carol, m1.id);  // never backwards
    EXPECT_FALSE(back->moved);
    EXPECT_EQ((co_await f.db.run<LastRead>(f.tenant, room, carol))->message_id, m2.id);

    auto readers1 = co_await f.db.run<ListReaders>(f.tenant, room, m1.id, carol);
    std::set<std::int64_t> who;
    for (const auto& r : readers1->items) who.insert(r.user_id);
    EXPECT_EQ(who, (std::set<std::int64_t>{alice, bob, carol}));
    auto readers3 = co_await f.db.run<ListReaders>(f.tenant, room, m3.id, carol);
    EXPECT_EQ(readers3->items.size(), 1u);  // only bob, the sender

    auto counts = co_await f.db.run<UnreadCounts>(f.tenant, carol);
    CO_ASSERT(counts->items.size() == 1);
    EXPECT_EQ(counts->items[0].room_id, room);
    EXPECT_EQ(counts->items[0].unread_count, 1);

    auto missing = co_await f.db.run<MarkRead>(f.tenant, room, carol, 999'999'999);
    EXPECT_EQ(missing.error().message, "message not found");
    auto other_room = co_await f.room(alice, bob);
    auto foreign = co_await f.db.run<MarkRead>(f.tenant, other_room, alice, m1.id);
    EXPECT_EQ(foreign.error().code, core::ErrorCode::not_found);
}

// Every room-scoped read and write checks the caller's membership in its own statement, so
// a removal committed before it leaves nothing to read or move (issue 12).
CO_TEST(ChatOps, RoomScopedOperationsRefuseNonMembersThemselves) {
    Fixture f(ctx.io);
    co_await f.setup(3);
    const auto alice = f.users[0], bob = f.users[1], carol = f.users[2];
    auto room = co_await f.room(alice, bob, carol);
    auto m1 = co_await f.send(room, alice, "1");
    auto check = [](const auto& result, const char* what) {
        EXPECT_FALSE(result.has_value()) << what;
        if (!result) {
            EXPECT_EQ(result.error().code, core::ErrorCode::forbidden) << what;
        }
    };
    const std::int64_t empty_room = co_await f.room(alice, bob);
    ListMessages::Request empty{f.tenant, empty_room, 10, std::nullopt, std::nullopt, bob};
    auto none = co_await f.db.run<ListMessages>(empty);
    CO_ASSERT(none.has_value());  // a member of a room without messages: an empty page
    EXPECT_TRUE(none->items.empty());

    RemoveMember::Request leave{f.tenant, room, carol, carol, false};
    CO_ASSERT((co_await f.db.run<RemoveMember>(leave)).has_value());
    ListMessages::Request page{f.tenant, room, 10, std::nullopt, std::nullopt, carol};
    auto r1 = co_await f.db.run<ListMessages>(page);
    check(r1, "list");
    page.after_seq = 0;
    auto r2 = co_await f.db.run<ListMessages>(page);
    check(r2, "list after");
    auto r3 = co_await f.db.run<MarkRead>(f.tenant, room, carol, m1.id);
    check(r3, "mark read");
    auto r4 = co_await f.db.run<UnreadCount>(f.tenant, room, carol);
    check(r4, "unread count");
    auto r5 = co_await f.db.run<LastRead>(f.tenant, room, carol);
    check(r5, "last read");
    auto r6 = co_await f.db.run<ListReaders>(f.tenant, room, m1.id, carol);
    check(r6, "readers");
    // Still members: unaffected.
    page.user_id = bob;
    auto bobs = co_await f.db.run<ListMessages>(page);
    CO_ASSERT(bobs.has_value());
    EXPECT_EQ(bobs->items.size(), 1u);
    EXPECT_TRUE((co_await f.db.run<ListReaders>(f.tenant, room, m1.id, bob)).has_value());
}

CO_TEST(ChatOps, ResumeReadsEveryRoomInOneStatement) {
    Fixture f(ctx.io);
    co_await f.setup(3);
    const auto alice = f.users[0], bob = f.users[1], carol = f.users[2];
    const auto busy = co_await f.room(alice, bob);
    const auto quiet = co_await f.room(alice, bob);
    const auto theirs = co_await f.room(alice, carol);  // bob is not in it
    for (int i = 1; i <= 5; ++i) {
        const std::string body = std::to_string(i);
        co_await f.send(busy, alice, body);
    }
    co_await f.send(theirs, alice, "secret");
    ResumeRooms::Request req{f.tenant, bob, {busy, quiet, theirs}, {2, 0, 0}, 10};
    auto all = co_await f.db.run<ResumeRooms>(req);
    CO_ASSERT(all.has_value());
    std::vector<std::int64_t> seqs;
    for (const auto& m : all->items) {
        EXPECT_EQ(m.room_id, busy);
        seqs.push_back(m.seq);
    }
    EXPECT_EQ(seqs, (std::vector<std::int64_t>{3, 4, 5}));
    EXPECT_EQ(all->denied, std::vector<std::int64_t>{theirs});
    // The per-room page bounds it.
    req.per_room = 2;
    auto paged = co_await f.db.run<ResumeRooms>(req);
    CO_ASSERT(paged.has_value());
    EXPECT_EQ(paged->items.size(), 2u);
    EXPECT_EQ(paged->denied, std::vector<std::int64_t>{theirs});
}

CO_TEST(ChatOps, RoomListShowsLatestPeerMentionsAndUnread) {
    Fixture f(ctx.io);
    co_await f.setup(3);
    const auto alice = f.users[0], kim = f.users[1];
    auto dm = co_await f.direct(alice, kim);
    auto group = co_await f.room(alice, kim, f.users[2]);
    co_await f.send(group, alice, "older");
    co_await f.send(dm, alice, "안녕 @김철수 and @bob");

    ListRooms::Request q{f.tenant, kim, 10, std::nullopt, std::nullopt};
    auto rooms = co_await f.db.run<ListRooms>(q);
    CO_ASSERT(rooms->items.size() == 2);
    const auto& first = rooms->items[0];
    EXPECT_EQ(first.room_id, dm);  // the most recent activity first
    EXPECT_EQ(first.peer_user_id, alice);
    CO_ASSERT(first.latest.has_value());
    EXPECT_EQ(first.latest->body, "안녕 @김철수 and @bob");
    EXPECT_EQ(first.mention_tokens, (std::vector<std::string>{"김철수", "bob"}));
    EXPECT_TRUE(first.is_mentioned);  // kim's name is 김철수
    EXPECT_EQ(first.unread_count, 1);
    EXPECT_FALSE(rooms->items[1].peer_user_id);  // group rooms have no peer

    q.limit = 1;
    q.cursor_unix_nanos = first.activity_unix_nanos;
    q.cursor_room_id = first.room_id;
    auto next = co_await f.db.run<ListRooms>(q);
    CO_ASSERT(next->items.size() == 1);
    EXPECT_EQ(next->items[0].room_id, group);

    ListRooms::Request as_alice{f.tenant, alice, 10, std::nullopt, std::nullopt};
    auto alice_rooms = co_await f.db.run<ListRooms>(as_alice);
    EXPECT_FALSE(alice_rooms->items[0].is_mentioned);
}

CO_TEST(ChatOps, SearchFindsKoreanWithParticlesOnlyInTheCallersRooms) {
    Fixture f(ctx.io);
    co_await f.setup(3);
    const auto a = f.users[0], b = f.users[1], outsider = f.users[2];
    auto shared = co_await f.room(a, b);
    auto private_room = co_await f.room(outsider);
    auto hit = co_await f.send(shared, a, "서버에서 배포를 시작합니다");
    co_await f.send(shared, b, "점심 메뉴는?");
    co_await f.send(private_room, outsider, "서버 비밀번호 변경");

    auto search = [&](std::int64_t user, std::string_view q) {
        SearchMessages::Request req;
        req.tenant_id = f.tenant;
        req.user_id = user;
        req.tsquery = search::to_tsquery(search::parse_query(q));
        req.limit = 10;
        return f.db.run<SearchMessages>(std::move(req));
    };
    auto found = co_await search(b, "서버");
    CO_ASSERT(found.has_value());
    CO_ASSERT(found->items.size() == 1);  // not the outsider's room
    EXPECT_EQ(found->items[0].id, hit.id);
    auto theirs = co_await search(outsider, "서버");
    CO_ASSERT(theirs && theirs->items.size() == 1);
    EXPECT_NE(theirs->items[0].id, hit.id);
    auto none = co_await search(b, "배포 점심");  // both terms in one message: none
    EXPECT_TRUE(none->items.empty());
}

// 24,000 messages interleaved between a room of the caller's and one of an outsider's: the
// first pages come from the recent window, later ones from the index below it, and paging
// with before_id returns every match once, newest first, never the outsider's.
CO_TEST(ChatOps, SearchPagesAcrossTheRecentWindowCompletely) {
    Fixture f(ctx.io);
    co_await f.setup(2);
    const auto reader = f.users[0], outsider = f.users[1];
    auto mine = co_await f.room(reader);
    auto theirs = co_await f.room(outsider);
    {
        auto c = co_await f.pool.acquire();
        co_await c->query(
            "INSERT INTO messages (tenant_id, room_id, seq, sender_id, body, search_tokens)"
            " SELECT $1, CASE WHEN i % 2 = 0 THEN $2::bigint ELSE $3::bigint END, i,"
            "   CASE WHEN i % 2 = 0 THEN $4::bigint ELSE $5::bigint END,"
            "   CASE WHEN i % 2 = 1 OR i % 1000 = 0 THEN 'needle' ELSE 'hay' END,"
            "   CASE WHEN i % 2 = 1 OR i % 1000 = 0 THEN 'needle'::tsvector"
            "        ELSE 'hay'::tsvector END"
            " FROM generate_series(1, 24000) i",
            f.tenant, mine, theirs, reader, outsider);
    }
    SearchMessages::Request req;
    req.tenant_id = f.tenant;
    req.user_id = reader;
    req.tsquery = search::to_tsquery(search::parse_query("needle"));
    req.limit = 5;
    std::vector<std::int64_t> seen;
    for (int page = 0; page < 10; ++page) {
        auto r = co_await f.db.run<SearchMessages>(req);
        CO_ASSERT(r.has_value());
        for (const auto& m : r->items) {
            EXPECT_EQ(m.room_id, mine);
            if (!seen.empty()) {
                EXPECT_LT(m.id, seen.back());
            }
            seen.push_back(m.id);
        }
        if (r->items.size() < 5) break;
        req.before_id = r->items.back().id;
    }
    EXPECT_EQ(seen.size(), 24u);  // i = 1000, 2000, …, 24000
}

}  // namespace
}  // namespace msg::chat

// ---- group commit: SendMessages and SendBatcher ---------------------------------------------

namespace msg::chat {
namespace {

SendMessage::Request send_request(const Fixture& f, std::int64_t room, std::int64_t sender,
                                  std::string body, std::optional<std::string> client_id) {
    auto tokens = search::index_tokens(body);
    return {f.tenant, room, sender, std::move(body), "{}", std::move(client_id), std::move(tokens)};
}

CO_TEST(ChatOps, ABatchNumbersEachRoomInOrderAndEachSendKeepsItsOwnOutcome) {
    Fixture f(ctx.io);
    co_await f.setup(3);
    auto a = co_await f.room(f.users[0], f.users[1]);
    auto b = co_await f.room(f.users[1]);
    const std::optional<std::string> old_id = "old";
    auto earlier =
        co_await f.db.run<SendMessage>(f.tenant, a, f.users[0], "earlier", "{}", old_id, kNoTokens);
    CO_ASSERT(earlier && earlier->message.seq == 1);

    SendMessages::Request batch{f.tenant, {}};
    batch.sends.push_back(send_request(f, a, f.users[0], "첫째 hello", "a1"));      // 0 → a seq 2
    batch.sends.push_back(send_request(f, b, f.users[1], "in b", std::nullopt));    // 1 → b seq 1
    batch.sends.push_back(send_request(f, a, f.users[2], "outsider", "x"));         // 2 → refused
    batch.sends.push_back(send_request(f, a, f.users[0], "again", old_id));         // 3 → earlier
    batch.sends.push_back(send_request(f, a, f.users[1], "second", std::nullopt));  // 4 → a 3
    batch.sends.push_back(send_request(f, a, f.users[0], "repeat", "a1"));  // 5 → same as 0
    auto r = co_await f.db.run<SendMessages>(batch);
    CO_ASSERT(r && r->results.size() == 6);
    const auto& res = r->results;
    CO_ASSERT(res[0] && res[1] && !res[2] && res[3] && res[4] && res[5]);
    EXPECT_EQ(res[0]->message.seq, 2);
    EXPECT_FALSE(res[0]->duplicate);
    EXPECT_EQ(res[0]->message.body, "첫째 hello");
    EXPECT_EQ(res[0]->message.client_msg_id, std::optional<std::string>("a1"));
    EXPECT_EQ(res[1]->message.room_id, b);
    EXPECT_EQ(res[1]->message.seq, 1);
    EXPECT_TRUE(res[3]->duplicate);
    EXPECT_EQ(res[3]->message.id, earlier->message.id);
    EXPECT_EQ(res[4]->message.seq, 3);
    EXPECT_EQ(res[4]->message.sender_id, f.users[1]);
    EXPECT_TRUE(res[5]->duplicate);
    EXPECT_EQ(res[5]->message.id, res[0]->message.id);

    auto conn = co_await f.pool.acquire();
    auto rooms = co_await conn->query(
        "SELECT id, last_seq FROM chat_rooms WHERE tenant_id = $1 ORDER BY id", f.tenant);
    EXPECT_EQ(rooms.int64(0, 1), 3);  // the refused send and the duplicates left no gap
    EXPECT_EQ(rooms.int64(1, 1), 1);
    auto marks = co_await conn->query(
        "SELECT user_id, last_read_seq FROM room_members WHERE tenant_id = $1 AND room_id = $2"
        " ORDER BY user_id",
        f.tenant, a);
    EXPECT_EQ(marks.int64(0, 1), 2);  // u0's own newest, not u1's later one
    EXPECT_EQ(marks.int64(1, 1), 3);
    auto events = co_await conn->query(
        "SELECT count(*) FROM outbox WHERE tenant_id = $1 AND topic = 'message.created'", f.tenant);
    EXPECT_EQ(events.int64(0, 0), 1 + 3);  // `earlier` + the three new messages
    // Search tokens are stored as a single send stores them.
    const std::string word = search::index_tokens("첫째 hello").front();
    auto found = co_await conn->query(
        "SELECT count(*) FROM messages WHERE tenant_id = $1 AND search_tokens @@ $2::tsquery",
        f.tenant, "'" + word + "'");
    EXPECT_EQ(found.int64(0, 0), 1);
}

/// Counts finished coroutines across threads; `all` is set by the last one.
struct Countdown {
    explicit Countdown(int n) : pending(n) {}
    void one_done() {
        if (--pending == 0) all.set();
    }
    std::atomic<int> pending;
    core::Event all;
};

core::Task<void> batched_sender(Fixture* f, SendBatcher* batcher, Countdown* done,
                                std::int64_t room, std::int64_t user, int s, int count) {
    std::int64_t previous_id = 0;
    for (int k = 0; k < count; ++k) {
        const int id_of = k % 5 == 4 ? k - 1 : k;  // every 5th repeats the client id before it
        auto req = send_request(*f, room, user, "s" + std::to_string(s) + ":" + std::to_string(k),
                                "s" + std::to_string(s) + "-" + std::to_string(id_of));
        auto r = co_await batcher->send(req);
        if (!r) {
            ADD_FAILURE() << "send refused: " << r.error().message;
            break;
        }
        EXPECT_EQ(r->duplicate, id_of != k);
        if (id_of != k) {
            EXPECT_EQ(r->message.id, previous_id);
        }
        previous_id = r->message.id;
    }
    done->one_done();
}

core::Task<void> outsider(Fixture* f, SendBatcher* batcher, Countdown* done, std::int64_t room,
                          std::int64_t user, std::atomic<int>* refused) {
    auto req = send_request(*f, room, user, "let me in", std::nullopt);
    auto r = co_await batcher->send(req);
    if (!r && r.error().message == "room access denied") ++*refused;
    done->one_done();
}

// A burst of concurrent sends on a 2-thread io_context: each room's seqs come out gap-free and
// unique, each sender's messages in the order it sent them, a repeated client_msg_id stored
// once, a non-member refused alone — and the sends really were batched.
core::Task<void> concurrent_burst(testing::CoContext& ctx) {
    Fixture f(ctx.io);
    co_await f.setup(5);
    std::vector<std::int64_t> rooms;
    for (int i = 0; i < 3; ++i) {
        rooms.push_back(co_await f.room(f.users[0], f.users[1], f.users[2], f.users[3]));
    }
    SendBatcher batcher(f.db, {.lanes = 2, .max_batch = 16});
    constexpr int kSenders = 12, kEach = 20;
    Countdown done(kSenders + 1);
    std::atomic<int> refused{0};
    for (int s = 0; s < kSenders; ++s) {
        const auto room = rooms[static_cast<std::size_t>(s % 3)];
        const auto user = f.users[static_cast<std::size_t>(s % 4)];
        asio::co_spawn(ctx.io, batched_sender(&f, &batcher, &done, room, user, s, kEach),
                       asio::detached);
    }
    asio::co_spawn(ctx.io, outsider(&f, &batcher, &done, rooms[0], f.users[4], &refused),
                   asio::detached);
    const bool finished = co_await done.all.wait_for(120s);
    CO_ASSERT(finished);
    EXPECT_EQ(refused, 1);
    EXPECT_EQ(batcher.stats().sends, static_cast<std::uint64_t>(kSenders * kEach + 1));
    EXPECT_LT(batcher.stats().batches, batcher.stats().sends / 2);

    auto conn = co_await f.pool.acquire();
    for (auto room : rooms) {
        auto rows = co_await conn->query(
            "SELECT seq, body FROM messages WHERE tenant_id = $1 AND room_id = $2 ORDER BY seq",
            f.tenant, room);
        const int distinct = kEach - kEach / 5;  // per sender; 4 senders per room
        CO_ASSERT(rows.size() == 4 * distinct);
        std::map<std::string, int> last_of_sender;
        for (int i = 0; i < rows.size(); ++i) {
            EXPECT_EQ(rows.int64(i, 0), i + 1);
            const auto body = rows.string(i, 1);  // "s<sender>:<k>"
            const auto colon = body.find(':');
            const int k = std::stoi(body.substr(colon + 1));
            auto [it, first] = last_of_sender.try_emplace(body.substr(0, colon), k);
            if (!first) {
                EXPECT_GT(k, it->second) << body;
            }
            it->second = k;
        }
    }
}

TEST(SendBatcher, ConcurrentSendsAreBatchedGapFreeAndInSenderOrder) {
    testing::run_co(&concurrent_burst, 2);
}

// Two tenants in one lane: a batch holds one tenant's sends, the other's wait their turn.
CO_TEST(SendBatcher, TenantsSharingALaneGetTheirOwnBatches) {
    Fixture f(ctx.io), g(ctx.io);
    co_await f.setup(2);
    co_await g.setup(2);
    auto rf = co_await f.room(f.users[0], f.users[1]);
    auto rg = co_await g.room(g.users[0], g.users[1]);
    SendBatcher batcher(f.db, {.lanes = 1, .max_batch = 64});
    Countdown done(8);
    for (int s = 0; s < 8; ++s) {
        Fixture* x = s % 2 == 0 ? &f : &g;
        const auto room = s % 2 == 0 ? rf : rg;
        asio::co_spawn(ctx.io, batched_sender(x, &batcher, &done, room, x->users[s / 2 % 2], s, 5),
                       asio::detached);
    }
    const bool finished = co_await done.all.wait_for(60s);
    CO_ASSERT(finished);
    auto conn = co_await f.pool.acquire();
    for (const Fixture* x : {&f, &g}) {
        auto rows = co_await conn->query(
            "SELECT count(*), max(seq) FROM messages WHERE tenant_id = $1", x->tenant);
        EXPECT_EQ(rows.int64(0, 0), 4 * 4);  // 4 senders × 4 distinct client ids
        EXPECT_EQ(rows.int64(0, 1), 4 * 4);
    }
}

}  // namespace
}  // namespace msg::chat
