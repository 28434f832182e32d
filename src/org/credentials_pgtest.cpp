#include <boost/asio/io_context.hpp>

#include <memory>

#include "bus/inproc_bus.hpp"
#include "core/clock.hpp"
#include "data/executor.hpp"
#include "org/credentials.hpp"
#include "org/operations.hpp"
#include "storage/pg/pool.hpp"
#include "testing/co_test.hpp"
#include "testing/fake_socket.hpp"
#include "testing/pg_database.hpp"

namespace msg::org {
namespace {

using namespace std::chrono_literals;

struct Fixture {
    explicit Fixture(boost::asio::io_context& io)
        : pool(io, testing::test_pool_options(4)), db(pool) {}

    /// A new tenant with one user; the user's principal (token version 0).
    core::Task<core::Principal> user(std::string tenant) {
        auto c = co_await pool.acquire();
        co_await c->query("INSERT INTO tenants (tenant_id, name) VALUES ($1, $1)", tenant);
        auto org = co_await db.run<CreateOrgUnit>(tenant, std::nullopt, "HQ");
        CreateUser::Request req{tenant, org.value().id, "u@example.com", "U", "", "user", "offline",
                                "",     "hash"};
        auto id = co_await db.run<CreateUser>(std::move(req));
        co_return core::Principal{id.value().id, tenant, "user"};
    }

    core::Task<void> bump(const core::Principal& who) {
        ChangeCredentials::Request req;
        req.tenant_id = who.tenant_id;
        req.user_id = who.user_id;
        auto r = co_await db.run<ChangeCredentials>(std::move(req));
        CO_ASSERT(r.has_value());
    }

    pg::Pool pool;
    data::Executor db;
    bus::InprocBus bus;
    core::ManualClock clock;
};

CO_TEST(Credentials, CachedForTheTtlAndRevokedAtOnceOnEveryNode) {
    Fixture f(ctx.io);
    const auto who = co_await f.user(testing::unique_tenant());
    Credentials here(f.db, f.bus, f.clock, {.ttl = 2s});
    Credentials there(f.db, f.bus, f.clock, {.ttl = 2s});  // another node on the same bus
    CO_ASSERT((co_await here.check(who)).has_value());
    CO_ASSERT((co_await there.check(who)).has_value());

    // Changed in the database without telling anyone: the cache answers until its ttl.
    co_await f.bump(who);
    EXPECT_TRUE((co_await here.check(who)).has_value());
    f.clock.advance(2s);
    auto stale = co_await here.check(who);
    CO_ASSERT(!stale.has_value());
    EXPECT_EQ(stale.error().code, core::ErrorCode::unauthorized);
    EXPECT_EQ(stale.error().message, "token revoked");

    // A revocation reaches the other node at once, without waiting for its ttl.
    core::Principal current = who;
    current.token_version = 1;
    CO_ASSERT((co_await there.check(current)).has_value());  // cached: version 1
    co_await f.bump(current);                                // version 2
    here.revoke_user(who.tenant_id, who.user_id);
    auto on_there = co_await there.check(current);
    CO_ASSERT(!on_there.has_value());
    EXPECT_EQ(on_there.error().message, "token revoked");
    current.token_version = 2;
    EXPECT_TRUE((co_await there.check(current)).has_value());
}

CO_TEST(Credentials, SuspensionAndDeactivationAndUnknownUsers) {
    Fixture f(ctx.io);
    const auto who = co_await f.user(testing::unique_tenant());
    Credentials creds(f.db, f.bus, f.clock, {});
    CO_ASSERT((co_await creds.check(who)).has_value());

    {
        auto c = co_await f.pool.acquire();
        co_await c->query("UPDATE tenants SET is_active = false WHERE tenant_id = $1",
                          who.tenant_id);
    }
    creds.revoke_tenant(who.tenant_id);
    auto suspended = co_await creds.check(who);
    CO_ASSERT(!suspended.has_value());
    EXPECT_EQ(suspended.error().message, "tenant suspended");
    {
        auto c = co_await f.pool.acquire();
        co_await c->query("UPDATE tenants SET is_active = true WHERE tenant_id = $1",
                          who.tenant_id);
    }
    creds.revoke_tenant(who.tenant_id);
    CO_ASSERT((co_await creds.check(who)).has_value());

    ChangeCredentials::Request off;
    off.tenant_id = who.tenant_id;
    off.user_id = who.user_id;
    off.active = false;
    CO_ASSERT((co_await f.db.run<ChangeCredentials>(std::move(off))).has_value());
    creds.revoke_user(who.tenant_id, who.user_id);
    core::Principal same_version = who;
    same_version.token_version = 1;  // even a current version: the user is inactive
    auto inactive = co_await creds.check(same_version);
    CO_ASSERT(!inactive.has_value());
    EXPECT_EQ(inactive.error().message, "token revoked");

    core::Principal stranger{999'999'999, who.tenant_id, "admin"};
    EXPECT_FALSE((co_await creds.check(stranger)).has_value());
    core::Principal nowhere{who.user_id, "no-such-tenant", "admin"};
    auto unknown = co_await creds.check(nowhere);
    CO_ASSERT(!unknown.has_value());
    EXPECT_EQ(unknown.error().message, "tenant suspended");
}

CO_TEST(Credentials, RevocationClosesTheWatchedSocketsOfThatUserOrTenant) {
    Fixture f(ctx.io);
    Credentials creds(f.db, f.bus, f.clock, {});
    const core::Principal a{1, "t1", "user"}, b{2, "t1", "user"}, other{1, "t2", "user"};
    auto a1 = std::make_shared<testing::FakeSocket>(1);
    auto a2 = std::make_shared<testing::FakeSocket>(2);
    auto b1 = std::make_shared<testing::FakeSocket>(3);
    auto o1 = std::make_shared<testing::FakeSocket>(4);
    EXPECT_TRUE(creds.watch(a, a1));
    EXPECT_TRUE(creds.watch(a, a2));
    EXPECT_TRUE(creds.watch(b, b1));
    EXPECT_TRUE(creds.watch(other, o1));
    EXPECT_EQ(creds.watched(), 4u);
    {
        Credentials capped(f.db, f.bus, f.clock, {.max_sockets_per_user = 1});
        EXPECT_TRUE(capped.watch(a, a1));
        EXPECT_FALSE(capped.watch(a, a2));  // the user's second socket on this node
        EXPECT_TRUE(capped.watch(b, b1));
        capped.unwatch(a, a1->id());
        EXPECT_TRUE(capped.watch(a, a2));
    }

    creds.unwatch(a, a2->id());  // a socket that ended is not closed again
    creds.revoke_user("t1", 1);
    EXPECT_EQ(a1->close_code(), core::kCloseUnauthorized);
    EXPECT_EQ(a2->close_code(), 0);
    EXPECT_EQ(b1->close_code(), 0);
    EXPECT_EQ(o1->close_code(), 0);  // same user id, another tenant

    creds.revoke_tenant("t1");
    EXPECT_EQ(b1->close_code(), core::kCloseUnauthorized);
    EXPECT_EQ(o1->close_code(), 0);
    co_return;
}

}  // namespace
}  // namespace msg::org
