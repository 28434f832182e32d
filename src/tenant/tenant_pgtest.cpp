#include <boost/asio/io_context.hpp>

#include <algorithm>

#include "core/clock.hpp"
#include "data/executor.hpp"
#include "storage/pg/pool.hpp"
#include "tenant/dedicated.hpp"
#include "tenant/move.hpp"
#include "tenant/operations.hpp"
#include "tenant/router.hpp"
#include "tenant/service.hpp"
#include "testing/co_test.hpp"
#include "testing/pg_database.hpp"

namespace msg::tenant {
namespace {

constexpr std::string_view kKey = "tenant-secrets-key-for-tests-0123456789";

DatabaseRouter::Options router_options() {
    DatabaseRouter::Options o;
    o.pool = testing::test_pool_options(2);
    o.pool.connection.connect_timeout = std::chrono::milliseconds(2000);
    o.pool.acquire_timeout = std::chrono::milliseconds(3000);
    return o;
}

struct Fixture {
    explicit Fixture(boost::asio::io_context& io)
        : pool(io, testing::test_pool_options(2)),
          router(io, pool, kKey, clock, router_options()),
          service(db, "default", kKey) {
        db.route_tenants(router);
    }
    core::SystemClock clock;
    pg::Pool pool;
    DatabaseRouter router;
    data::Executor db{pool};
    TenantService service;
};

const core::Principal kPlatformAdmin{1, "default", "admin"};

Tenant make(const std::string& id) {
    Tenant t;
    t.tenant_id = id;
    t.name = "Tenant " + id;
    t.deployment_mode = " Shared ";
    return t;
}

CO_TEST(TenantOps, CreateListAndDuplicate) {
    Fixture f(ctx.io);
    auto id = testing::unique_tenant("acme");
    auto tenant = make(id);
    auto created = co_await f.service.create(kPlatformAdmin, tenant);
    CO_ASSERT(created.has_value());
    EXPECT_EQ(created->deployment_mode, "shared");  // normalised
    EXPECT_TRUE(created->is_active);
    EXPECT_EQ(created->user_count_threshold, 200);
    auto again = co_await f.service.create(kPlatformAdmin, tenant);
    CO_ASSERT(!again.has_value());
    EXPECT_EQ(again.error().code, core::ErrorCode::conflict);

    auto all = co_await f.service.list(kPlatformAdmin);
    CO_ASSERT(all.has_value());
    bool seen = false;
    for (const auto& t : *all) seen = seen || t.tenant_id == id;
    EXPECT_TRUE(seen);
    EXPECT_GE(all->size(), 2u);  // "default" too
}

/// The error text of a create ("" on success). A named coroutine: GCC 12 miscompiles
/// capturing coroutine lambdas.
core::Task<std::string> create_error(TenantService& service, Tenant t) {
    auto r = co_await service.create(kPlatformAdmin, std::move(t));
    co_return r ? "" : r.error().message;
}

CO_TEST(TenantOps, ValidationUsesSeedTexts) {
    Fixture f(ctx.io);
    auto t = make("");
    EXPECT_EQ(co_await create_error(f.service, t), "tenant_id is required");
    t = make("bad id!");
    EXPECT_EQ(co_await create_error(f.service, t), "tenant_id is invalid");
    t = make(testing::unique_tenant());
    t.name = "";
    EXPECT_EQ(co_await create_error(f.service, t), "name is required");
    t = make(testing::unique_tenant());
    t.user_count_threshold = -1;
    EXPECT_EQ(co_await create_error(f.service, t), "user_count_threshold must be greater than 0");
    t = make(testing::unique_tenant());
    t.deployment_mode = "hybrid";
    EXPECT_EQ(co_await create_error(f.service, t), "deployment_mode must be shared or dedicated");
    t = make(testing::unique_tenant());
    t.deployment_mode = "dedicated";
    EXPECT_EQ(co_await create_error(f.service, t), "dedicated_dsn is required for dedicated mode");
}

CO_TEST(TenantOps, PatchIsPartial) {
    Fixture f(ctx.io);
    auto id = testing::unique_tenant();
    auto base = make(id);
    base.dedicated_redis_addr = "redis:6379";
    base.dedicated_minio_secret_key = "s3cr3t";
    co_await f.service.create(kPlatformAdmin, base);

    TenantPatch p;
    p.name = "Renamed";
    auto updated = co_await f.service.update(kPlatformAdmin, id, p);
    CO_ASSERT(updated.has_value());
    EXPECT_EQ(updated->name, "Renamed");
    EXPECT_TRUE(updated->is_active);                         // omitted: unchanged (seed bug fixed)
    EXPECT_EQ(updated->dedicated_redis_addr, "redis:6379");  // omitted: unchanged
    EXPECT_EQ(updated->dedicated_minio_secret_key, "s3cr3t");

    TenantPatch to_dedicated;
    to_dedicated.deployment_mode = "dedicated";
    auto refused = co_await f.service.update(kPlatformAdmin, id, to_dedicated);
    CO_ASSERT(!refused.has_value());
    EXPECT_EQ(refused.error().message, "dedicated_dsn is required for dedicated mode");
    // A database that cannot be reached is refused, and nothing is saved.
    to_dedicated.dedicated_dsn = "host=db2.invalid";
    auto unreachable = co_await f.service.update(kPlatformAdmin, id, to_dedicated);
    CO_ASSERT(!unreachable.has_value());
    EXPECT_EQ(unreachable.error().message, "the dedicated database could not be prepared");
    auto still = co_await f.service.list(kPlatformAdmin);
    CO_ASSERT(still.has_value());
    for (const auto& t : *still) {
        if (t.tenant_id == id) {
            EXPECT_EQ(t.deployment_mode, "shared");
        }
    }

    const std::string unknown = "no-such-tenant";
    auto missing = co_await f.service.update(kPlatformAdmin, unknown, p);
    EXPECT_EQ(missing.error().code, core::ErrorCode::not_found);
}

CO_TEST(TenantOps, CredentialsAreSealedAtRestAndSettingsValidated) {
    Fixture f(ctx.io);
    auto id = testing::unique_tenant();
    auto t = make(id);  // shared: its dedicated settings are stored (sealed) all the same
    t.dedicated_dsn = "host=db2.internal port=5432 dbname=t user=app password=pw-in-dsn";
    t.dedicated_lavinmq_url = "amqp://app:mq-password@mq.internal:5672/vhost";
    t.dedicated_minio_secret_key = "minio-secret";
    auto created = co_await f.service.create(kPlatformAdmin, t);
    CO_ASSERT(created.has_value());
    EXPECT_EQ(created->dedicated_dsn, t.dedicated_dsn);  // opened for the caller (JSON hides it)

    auto conn = co_await f.pool.acquire();
    auto rows = co_await conn->query(
        "SELECT dedicated_dsn, dedicated_lavinmq_url, dedicated_minio_secret_key, "
        "dedicated_redis_addr FROM tenants WHERE tenant_id = $1",
        id);
    CO_ASSERT(rows.size() == 1);
    for (int col = 0; col < 3; ++col) {
        const std::string stored = rows.string(0, col);
        EXPECT_TRUE(stored.starts_with("enc:v1:")) << stored;
        EXPECT_EQ(stored.find("password"), std::string::npos);
        EXPECT_EQ(stored.find("secret"), std::string::npos);
    }
    EXPECT_EQ(rows.string(0, 3), "");  // nothing to seal stays empty

    auto listed = co_await f.service.list(kPlatformAdmin);
    CO_ASSERT(listed.has_value());
    bool found = false;
    for (const auto& item : *listed) {
        if (item.tenant_id != id) continue;
        found = true;
        EXPECT_EQ(item.dedicated_lavinmq_url, t.dedicated_lavinmq_url);
        EXPECT_EQ(item.dedicated_minio_secret_key, "minio-secret");
    }
    EXPECT_TRUE(found);

    // Another key cannot read them: they show as not configured, nothing fails or leaks.
    TenantService other_key(f.db, "default", "a-different-tenant-secrets-key-000000");
    auto unreadable = co_await other_key.list(kPlatformAdmin);
    CO_ASSERT(unreadable.has_value());
    for (const auto& item : *unreadable) {
        if (item.tenant_id == id) {
            EXPECT_EQ(item.dedicated_dsn, "");
        }
    }
    // No key: credentials cannot be set at all.
    TenantService no_key(f.db, "default", "");
    TenantPatch p;
    p.dedicated_minio_secret_key = "x";
    auto refused = co_await no_key.update(kPlatformAdmin, id, p);
    CO_ASSERT(!refused.has_value());
    EXPECT_EQ(refused.error().message, "tenant secrets key is not configured");
    // A DSN that reads a file is refused before anything is stored.
    p = {};
    p.dedicated_dsn = "host=db2 sslkey=/etc/shadow";
    auto bad = co_await f.service.update(kPlatformAdmin, id, p);
    CO_ASSERT(!bad.has_value());
    EXPECT_EQ(bad.error().message, "dedicated_dsn may not set sslkey");
}

CO_TEST(TenantOps, AccessRules) {
    Fixture f(ctx.io);
    auto mine = testing::unique_tenant(), other = testing::unique_tenant();
    auto mine_tenant = make(mine), other_tenant = make(other),
         third = make(testing::unique_tenant());
    co_await f.service.create(kPlatformAdmin, mine_tenant);
    co_await f.service.create(kPlatformAdmin, other_tenant);
    const core::Principal tenant_admin{7, mine, "admin"};
    const core::Principal manager{8, mine, "manager"};
    const core::Principal platform_manager{9, "default", "manager"};

    auto visible = co_await f.service.list(tenant_admin);
    CO_ASSERT(visible && visible->size() == 1);
    EXPECT_EQ((*visible)[0].tenant_id, mine);
    EXPECT_EQ((co_await f.service.list(manager)).error().code, core::ErrorCode::forbidden);
    EXPECT_EQ((co_await f.service.list(platform_manager)).error().code, core::ErrorCode::forbidden);
    EXPECT_EQ((co_await f.service.create(tenant_admin, third)).error().code,
              core::ErrorCode::forbidden);

    TenantPatch p;
    p.name = "Mine";
    EXPECT_TRUE(co_await f.service.update(tenant_admin, mine, p));
    EXPECT_EQ((co_await f.service.update(tenant_admin, other, p)).error().code,
              core::ErrorCode::forbidden);
    EXPECT_EQ((co_await f.service.update(manager, mine, p)).error().code,
              core::ErrorCode::forbidden);

    TenantPatch off;
    off.is_active = false;
    const std::string platform = "default";
    EXPECT_EQ((co_await f.service.update(kPlatformAdmin, platform, off)).error().message,
              "the platform tenant cannot be deactivated");
}

std::int64_t table_rows(const std::vector<MovedTable>& tables, std::string_view name,
                        std::int64_t MovedTable::*field) {
    for (const auto& t : tables) {
        if (t.table == name) return t.*field;
    }
    return -1;
}

/// tenant-move's phases on two real databases (the test database as the shared one, a fresh
/// one as the target): a copy keeps ids and resumes after the rows the target has, a purge
/// waits for the switch, and a target holding someone else's data is refused.
CO_TEST(TenantMove, CopiesResumesSwitchesAndPurges) {
    const std::string shared_dsn = testing::test_database_dsn();
    const std::string target_dsn = testing::another_test_database_dsn();
    pg::Pool shared(ctx.io, testing::test_pool_options(2));
    pg::PoolOptions to = testing::test_pool_options(2);
    to.connection.dsn = target_dsn;
    pg::Pool target(ctx.io, to);
    const SecretBox box(kKey);
    const std::string id = testing::unique_tenant("move");
    auto users = co_await testing::create_tenant_with_users(shared, id, 3);
    testing::run_sql(shared_dsn, "INSERT INTO chat_rooms (tenant_id, name, created_by) VALUES ('" +
                                     id + "', 'r', " + std::to_string(users[0]) + ")");
    testing::run_sql(shared_dsn,
                     "INSERT INTO room_members (tenant_id, room_id, user_id) SELECT tenant_id, "
                     "(SELECT id FROM chat_rooms WHERE tenant_id = '" +
                         id +
                         "'), id FROM users"
                         " WHERE tenant_id = '" +
                         id + "'");
    testing::run_sql(shared_dsn,
                     "INSERT INTO messages (tenant_id, room_id, seq, sender_id, body) SELECT '" +
                         id + "', r.id, g, " + std::to_string(users[1]) +
                         ", 'm' || g FROM chat_rooms r, generate_series(1, 7) g WHERE r.tenant_id"
                         " = '" +
                         id + "'");

    auto s = co_await shared.acquire();
    auto t = co_await target.acquire();
    auto early = co_await purge_moved(*s, id, 100);
    CO_ASSERT(!early.has_value());  // still served from the shared database
    EXPECT_EQ(early.error().code, core::ErrorCode::conflict);
    auto begun = co_await begin_move(*s, box, id, target_dsn);
    CO_ASSERT(begun.has_value());
    EXPECT_EQ(begun->phase, MovePhase::copy);
    const std::string elsewhere = target_dsn + " application_name=x";
    auto other = co_await begin_move(*s, box, id, elsewhere);
    CO_ASSERT(!other.has_value());
    EXPECT_EQ(other.error().code, core::ErrorCode::conflict);

    auto copied = co_await copy_tenant(*s, *t, id, 2);  // pages of 2 rows
    CO_ASSERT(copied.has_value());
    EXPECT_EQ(table_rows(*copied, "users", &MovedTable::copied), 3);
    EXPECT_EQ(table_rows(*copied, "room_members", &MovedTable::copied), 3);
    EXPECT_EQ(table_rows(*copied, "messages", &MovedTable::copied), 7);
    EXPECT_EQ(table_rows(*copied, "messages", &MovedTable::target), 7);
    EXPECT_EQ(table_rows(*copied, "org_units", &MovedTable::target), 1);

    // Cut short: the target lost its newest messages and a membership; a rerun copies those.
    testing::run_sql(target_dsn, "DELETE FROM messages WHERE tenant_id = '" + id + "' AND seq > 4");
    testing::run_sql(target_dsn, "DELETE FROM room_members WHERE tenant_id = '" + id +
                                     "' AND user_id = " + std::to_string(users[2]));
    auto resumed = co_await copy_tenant(*s, *t, id, 2);
    CO_ASSERT(resumed.has_value());
    EXPECT_EQ(table_rows(*resumed, "messages", &MovedTable::copied), 3);
    EXPECT_EQ(table_rows(*resumed, "room_members", &MovedTable::copied), 1);
    EXPECT_EQ(table_rows(*resumed, "users", &MovedTable::copied), 0);
    auto same_ids = co_await t->query(
        "SELECT string_agg(id::text, ',' ORDER BY id) FROM messages WHERE tenant_id = $1", id);
    auto source_ids = co_await s->query(
        "SELECT string_agg(id::text, ',' ORDER BY id) FROM messages WHERE tenant_id = $1", id);
    EXPECT_EQ(same_ids.string(0, 0), source_ids.string(0, 0));
    // A new row in the target gets an id after every copied one.
    auto next = co_await t->query(
        "INSERT INTO messages (tenant_id, room_id, seq, sender_id, body) SELECT tenant_id, "
        "room_id, 8, sender_id, 'new' FROM messages WHERE tenant_id = $1 LIMIT 1 RETURNING id",
        id);
    auto max_source = co_await s->query("SELECT max(id) FROM messages");
    EXPECT_GT(next.int64(0, 0), max_source.int64(0, 0));
    co_await t->query("DELETE FROM messages WHERE tenant_id = $1 AND seq = 8", id);

    auto finished = co_await finish_move(*s, id);
    CO_ASSERT(finished.has_value());
    auto again = co_await begin_move(*s, box, id, target_dsn);
    CO_ASSERT(again.has_value());
    EXPECT_EQ(again->phase, MovePhase::purge);  // a rerun after the switch goes to the purge
    auto purged = co_await purge_moved(*s, id, 2);
    CO_ASSERT(purged.has_value());
    EXPECT_EQ(*purged, 1 + 3 + 1 + 3 + 7);  // org unit, users, room, members, messages
    auto left = co_await s->query("SELECT count(*) FROM users WHERE tenant_id = $1", id);
    EXPECT_EQ(left.int64(0, 0), 0);
    auto registry = co_await s->query(
        "SELECT deployment_mode, dedicated_dsn <> '', move_dsn FROM tenants WHERE tenant_id = $1",
        id);
    EXPECT_EQ(registry.string(0, 0), "dedicated");
    EXPECT_TRUE(registry.boolean(0, 1));
    EXPECT_EQ(registry.string(0, 2), "");
}

/// A migration that adds a tenant table must add it to the move, or a move would lose it.
CO_TEST(TenantMove, CopiesEveryTenantTable) {
    pg::Pool pool(ctx.io, testing::test_pool_options(1));
    auto c = co_await pool.acquire();
    auto rows = co_await c->query(
        "SELECT string_agg(table_name::text, ',' ORDER BY table_name) FROM "
        "information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id'"
        " AND table_name <> 'tenants'");
    auto tables = moved_tables();
    std::sort(tables.begin(), tables.end());
    std::string joined;
    for (const auto& t : tables) joined += (joined.empty() ? "" : ",") + t;
    EXPECT_EQ(rows.string(0, 0), joined);
}

CO_TEST(TenantMove, RefusesATargetWithAnotherTenantsData) {
    const std::string target_dsn = testing::another_test_database_dsn();
    pg::Pool shared(ctx.io, testing::test_pool_options(2));
    pg::PoolOptions to = testing::test_pool_options(2);
    to.connection.dsn = target_dsn;
    pg::Pool target(ctx.io, to);
    const std::string id = testing::unique_tenant("move");
    const std::string someone_else = testing::unique_tenant("other");
    co_await testing::create_tenant_with_users(shared, id, 1);
    co_await testing::create_tenant_with_users(target, someone_else, 1);
    auto s = co_await shared.acquire();
    auto t = co_await target.acquire();
    const SecretBox box(kKey);
    auto begun = co_await begin_move(*s, box, id, target_dsn);
    CO_ASSERT(begun.has_value());
    auto copied = co_await copy_tenant(*s, *t, id, 100);
    CO_ASSERT(!copied.has_value());
    EXPECT_EQ(copied.error().message, "the target database holds another tenant's data");
    // The shared database itself, by any name (here: a second connection to it).
    auto again = co_await shared.acquire();
    auto itself = co_await copy_tenant(*s, *again, id, 100);
    CO_ASSERT(!itself.has_value());
    EXPECT_EQ(itself.error().message, "the target is the shared database itself");
    auto open = co_await writes_begun_before(*s, id, std::chrono::seconds(0));
    EXPECT_GE(open, 0);
    auto aborted = co_await abort_move(*s, id);
    CO_ASSERT(aborted.has_value());
    auto registry =
        co_await s->query("SELECT move_dsn, deployment_mode FROM tenants WHERE tenant_id = $1", id);
    EXPECT_EQ(registry.string(0, 0), "");
    EXPECT_EQ(registry.string(0, 1), "shared");
    auto twice = co_await abort_move(*s, id);
    EXPECT_FALSE(twice.has_value());
    auto users = co_await t->query("SELECT count(*) FROM users WHERE tenant_id = $1", id);
    EXPECT_EQ(users.int64(0, 0), 0);
}

}  // namespace
}  // namespace msg::tenant
