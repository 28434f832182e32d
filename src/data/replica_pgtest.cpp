// The read/write split against a real streaming replica of the test cluster (scripts/test.sh
// starts it with pg_basebackup -R). Replay is paused to make the replica lag on purpose.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

#include "data/executor.hpp"
#include "storage/pg/pool.hpp"
#include "testing/co_test.hpp"
#include "testing/pg_database.hpp"

namespace msg::data {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct PutRow {
    static constexpr std::string_view kName = "test/put";
    static constexpr bool kReadOnly = false;
    struct Request {
        std::string tenant_id;
        std::string value;
    };
    struct Response {};
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r) {
        co_await c.query("INSERT INTO replica_test (tenant_id, value) VALUES ($1, $2)", r.tenant_id,
                         r.value);
        co_return Response{};
    }
};

/// A write of no tenant (as creating a tenant): it fences every tenant's reads.
struct PutUntenanted {
    static constexpr std::string_view kName = "test/put-untenanted";
    static constexpr bool kReadOnly = false;
    struct Request {
        std::string value;
    };
    struct Response {};
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r) {
        co_await c.query("INSERT INTO replica_test (tenant_id, value) VALUES ('', $1)", r.value);
        co_return Response{};
    }
};

struct Count {
    std::int64_t rows = 0;
    bool standby = false;  // which server answered
};

core::Task<core::Result<Count>> count_rows(pg::Connection& c, const std::string& tenant) {
    auto rows = co_await c.query(
        "SELECT count(*), pg_is_in_recovery() FROM replica_test WHERE tenant_id = $1", tenant);
    co_return Count{rows.int64(0, 0), rows.boolean(0, 1)};
}

struct CountRows {  // replica-eligible
    static constexpr std::string_view kName = "test/count";
    static constexpr bool kReadOnly = true;
    struct Request {
        std::string tenant_id;
    };
    using Response = Count;
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r) {
        return count_rows(c, r.tenant_id);
    }
};

struct CountRowsOnPrimary {
    static constexpr std::string_view kName = "test/count-primary";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;
    using Request = CountRows::Request;
    using Response = Count;
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r) {
        return count_rows(c, r.tenant_id);
    }
};

static_assert(replica_eligible<CountRows>());
static_assert(!replica_eligible<CountRowsOnPrimary>());
static_assert(!replica_eligible<PutRow>());

core::Task<void> pause(asio::io_context& io, std::chrono::milliseconds d) {
    asio::steady_timer t(io, d);
    co_await t.async_wait(asio::use_awaitable);
}

/// The test database with its table, on both servers; replay runs again at the end of a test
/// whatever happened in it.
struct Cluster {
    std::string primary = testing::test_database_dsn();
    std::string replica = testing::replica_dsn_of(primary);
    Cluster() {
        testing::run_sql(primary,
                         "CREATE TABLE IF NOT EXISTS replica_test (tenant_id text NOT NULL, "
                         "value text NOT NULL)");
        resume();
    }
    ~Cluster() { resume(); }
    void pause_replay() {
        testing::run_sql(testing::replica_admin_dsn(), "SELECT pg_wal_replay_pause()");
    }
    void resume() {
        testing::run_sql(testing::replica_admin_dsn(), "SELECT pg_wal_replay_resume()");
    }
};

pg::PoolOptions options(const std::string& dsn) {
    pg::PoolOptions o;
    o.connection.dsn = dsn;
    o.max_size = 2;
    o.acquire_timeout = 3000ms;
    return o;
}

/// Waits (bounded) until the replica has the table: it follows the primary asynchronously.
core::Task<bool> replicated(asio::io_context& io, pg::Pool& replica) {
    for (int i = 0; i < 100; ++i) {
        bool ok = false;
        try {
            auto c = co_await replica.acquire();
            auto rows = co_await c->query("SELECT to_regclass('replica_test') IS NOT NULL");
            ok = rows.boolean(0, 0);
        } catch (const std::exception&) {
            ok = false;  // the database itself may not be there yet
        }
        if (ok) co_return true;
        co_await pause(io, 100ms);
    }
    co_return false;
}

CO_TEST(ReadReplica, EligibleReadsRunOnTheReplicaOthersOnThePrimary) {
    Cluster cluster;
    pg::Pool primary(ctx.io, options(cluster.primary));
    pg::Pool replica(ctx.io, options(cluster.replica));
    CO_ASSERT(co_await replicated(ctx.io, replica));
    Executor db(primary, &replica);
    Executor elsewhere(primary);  // another node's writes: this process's fence knows nothing
    const std::string tenant = testing::unique_tenant();

    cluster.pause_replay();
    PutRow::Request put{tenant, "a"};
    CO_ASSERT(co_await elsewhere.run<PutRow>(put));
    auto stale = co_await db.run<CountRows>(tenant);
    CO_ASSERT(stale);
    EXPECT_TRUE(stale->standby);  // served by the replica, which has not replayed the row
    EXPECT_EQ(stale->rows, 0);
    auto fresh = co_await db.run<CountRowsOnPrimary>(tenant);
    CO_ASSERT(fresh);
    EXPECT_FALSE(fresh->standby);
    EXPECT_EQ(fresh->rows, 1);
    EXPECT_EQ(db.fence()->counts().replica, 1u);
}

CO_TEST(ReadReplica, AWriterReadsItsOwnWritesWhileTheReplicaLags) {
    Cluster cluster;
    pg::Pool primary(ctx.io, options(cluster.primary));
    pg::Pool replica(ctx.io, options(cluster.replica));
    CO_ASSERT(co_await replicated(ctx.io, replica));
    Executor db(primary, &replica);
    const std::string writer = testing::unique_tenant(), other = testing::unique_tenant();

    cluster.pause_replay();
    PutRow::Request put{writer, "a"};
    CO_ASSERT(co_await db.run<PutRow>(put));  // a standby would refuse it: this ran on the primary
    EXPECT_GT(db.fence()->required(writer), 0u);
    EXPECT_EQ(db.fence()->required(other), 0u);
    // A read of no one tenant (the tenants registry's list) waits for every tenant's writes.
    EXPECT_GE(db.fence()->required(""), db.fence()->required(writer));
    auto own = co_await db.run<CountRows>(writer);
    CO_ASSERT(own);
    EXPECT_EQ(own->rows, 1);
    EXPECT_FALSE(own->standby);  // the replica is behind the write: the primary answered
    EXPECT_EQ(db.fence()->counts().primary_behind, 1u);
    auto unrelated = co_await db.run<CountRows>(other);
    CO_ASSERT(unrelated);
    EXPECT_TRUE(unrelated->standby);  // no write of this tenant: the replica still serves it

    // Replay resumes: once the replica has the write, the writer's reads go back to it.
    cluster.resume();
    bool back = false;
    for (int i = 0; i < 100 && !back; ++i) {
        auto r = co_await db.run<CountRows>(writer);
        CO_ASSERT(r);
        EXPECT_EQ(r->rows, 1);  // from either server, never without the write
        back = r->standby;
        if (!back) co_await pause(ctx.io, 50ms);
    }
    EXPECT_TRUE(back);
}

CO_TEST(ReadReplica, AWriteOfNoTenantFencesEveryTenant) {
    Cluster cluster;
    pg::Pool primary(ctx.io, options(cluster.primary));
    pg::Pool replica(ctx.io, options(cluster.replica));
    CO_ASSERT(co_await replicated(ctx.io, replica));
    Executor db(primary, &replica);
    const std::string tenant = testing::unique_tenant();

    cluster.pause_replay();
    PutUntenanted::Request put{"x"};
    CO_ASSERT(co_await db.run<PutUntenanted>(put));
    auto r = co_await db.run<CountRows>(tenant);
    CO_ASSERT(r);
    EXPECT_FALSE(r->standby);
}

CO_TEST(ReadReplica, AnUnreachableReplicaDegradesReadsToThePrimary) {
    Cluster cluster;
    pg::Pool primary(ctx.io, options(cluster.primary));
    pg::Pool replica(ctx.io, options("host=/nonexistent-msg-replica port=5432 dbname=x"));
    Executor db(primary, &replica);
    const std::string tenant = testing::unique_tenant();
    PutRow::Request put{tenant, "a"};
    CO_ASSERT(co_await db.run<PutRow>(put));
    auto r = co_await db.run<CountRows>(tenant);
    CO_ASSERT(r);
    EXPECT_EQ(r->rows, 1);
    EXPECT_FALSE(r->standby);
    EXPECT_EQ(db.fence()->counts().primary_unavailable, 1u);
}

}  // namespace
}  // namespace msg::data
