#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/error.hpp"
#include "storage/pg/migrate.hpp"
#include "storage/pg/pool.hpp"
#include "testing/co_test.hpp"
#include "testing/pg_database.hpp"

namespace msg::pg {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

PoolOptions options(std::size_t size, std::chrono::milliseconds wait = 2000ms) {
    PoolOptions o = testing::test_pool_options(size);
    o.acquire_timeout = wait;
    return o;
}

CO_TEST(PgConnection, QueriesWithParametersAndNulls) {
    Pool pool(ctx.io, options(1));
    auto conn = co_await pool.acquire();
    auto rows = co_await conn->query("SELECT $1::bigint + 1, $2::text, $3::text IS NULL, $4::bool",
                                     std::int64_t{41}, "한글", Param{}, true);
    CO_ASSERT(rows.size() == 1);
    EXPECT_EQ(rows.int64(0, 0), 42);
    EXPECT_EQ(rows.string(0, 1), "한글");
    EXPECT_TRUE(rows.boolean(0, 2));
    EXPECT_TRUE(rows.boolean(0, 3));
    // The same statement again runs the prepared form.
    auto again = co_await conn->query("SELECT $1::bigint + 1, $2::text, $3::text IS NULL, $4::bool",
                                      std::int64_t{1}, "x", "y", false);
    EXPECT_EQ(again.int64(0, 0), 2);
    EXPECT_FALSE(again.boolean(0, 2));
}

CO_TEST(PgConnection, TextArraysRoundTripAnyText) {
    Pool pool(ctx.io, options(1));
    auto conn = co_await pool.acquire();
    const std::vector<std::string> values{
        "plain", "with \"quotes\"", "back\\slash", "a,b {c}", "", "NULL", "한글"};
    auto rows = co_await conn->query(
        "SELECT v FROM unnest($1::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n", values);
    CO_ASSERT(rows.size() == static_cast<int>(values.size()));
    for (int i = 0; i < rows.size(); ++i) {
        EXPECT_FALSE(rows.is_null(i, 0));
        EXPECT_EQ(rows.string(i, 0), values[static_cast<std::size_t>(i)]);
    }
}

CO_TEST(PgConnection, TextArraysWithNullsKeepTheTextNull) {
    Pool pool(ctx.io, options(1));
    auto conn = co_await pool.acquire();
    const std::vector<std::optional<std::string>> values{"NULL", std::nullopt, "", "x\"y"};
    auto rows = co_await conn->query(
        "SELECT v FROM unnest($1::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n", values);
    CO_ASSERT(rows.size() == 4);
    EXPECT_EQ(rows.string(0, 0), "NULL");  // the text, quoted: not a null
    EXPECT_TRUE(rows.is_null(1, 0));
    EXPECT_EQ(rows.string(2, 0), "");
    EXPECT_EQ(rows.string(3, 0), "x\"y");
}

CO_TEST(PgConnection, ReplannedQueriesTakeParametersToo) {
    Pool pool(ctx.io, options(1));
    auto conn = co_await pool.acquire();
    const Param null_param;  // named: no class temporary inside the co_await (GCC 12)
    for (std::int64_t i = 0; i < 7; ++i) {  // past the point where a prepared one goes generic
        auto rows = co_await conn->query_replanned("SELECT $1::bigint * 2, $2::text IS NULL", i,
                                                   null_param);
        EXPECT_EQ(rows.int64(0, 0), i * 2);
        EXPECT_TRUE(rows.boolean(0, 1));
    }
}

CO_TEST(PgConnection, TimesAreUtcRfc3339) {
    Pool pool(ctx.io, options(1));
    auto conn = co_await pool.acquire();
    auto rows = co_await conn->query(
        "SELECT '2026-02-15 09:00:00.123456+09'::timestamptz, '2026-02-15 "
        "00:00:00+00'::timestamptz");
    EXPECT_EQ(rows.time(0, 0), "2026-02-15T00:00:00.123456Z");
    EXPECT_EQ(rows.time(0, 1), "2026-02-15T00:00:00Z");
    EXPECT_EQ(rows.unix_nanos(0, 0), 1'771'113'600'123'456'000LL);
    EXPECT_EQ(rows.unix_nanos(0, 1), 1'771'113'600'000'000'000LL);
}

CO_TEST(PgConnection, ServerErrorsCarrySqlstateAndKeepTheConnection) {
    Pool pool(ctx.io, options(1));
    auto conn = co_await pool.acquire();
    co_await conn->execute("CREATE TEMP TABLE t (k int PRIMARY KEY)");
    co_await conn->query("INSERT INTO t VALUES ($1)", std::int64_t{1});
    std::string state;
    try {
        co_await conn->query("INSERT INTO t VALUES ($1)", std::int64_t{1});
    } catch (const SqlError& e) {
        state = e.sqlstate();
        EXPECT_TRUE(e.unique_violation());
        EXPECT_EQ(e.constraint(), "t_pkey");
    }
    EXPECT_EQ(state, "23505");
    EXPECT_FALSE(conn->broken());
    auto rows = co_await conn->query("SELECT count(*) FROM t");
    EXPECT_EQ(rows.int64(0, 0), 1);
    auto updated = co_await conn->query("UPDATE t SET k = k + 1");
    EXPECT_EQ(updated.affected(), 1);
}

CO_TEST(PgPool, ReusesIdleConnections) {
    Pool pool(ctx.io, options(4));
    {
        auto a = co_await pool.acquire();
        EXPECT_EQ(pool.in_use(), 1u);
    }
    EXPECT_EQ(pool.in_use(), 0u);
    {
        auto b = co_await pool.acquire();
        EXPECT_EQ(pool.size(), 1u);
    }
}

CO_TEST(PgPool, TimesOutWhenExhausted) {
    Pool pool(ctx.io, options(1, 50ms));
    auto held = co_await pool.acquire();
    bool unavailable = false;
    try {
        auto second = co_await pool.acquire();
    } catch (const core::UnavailableException&) {
        unavailable = true;
    }
    EXPECT_TRUE(unavailable);
    EXPECT_EQ(pool.size(), 1u);
}

asio::awaitable<void> hold_then_release(Pool* pool, asio::io_context* io, int* order) {
    auto lease = co_await pool->acquire();
    asio::steady_timer t(*io, 30ms);
    co_await t.async_wait(asio::use_awaitable);
    *order = 1;
}

CO_TEST(PgPool, WaiterGetsReleasedConnection) {
    Pool pool(ctx.io, options(1, 5000ms));
    int order = 0;
    asio::co_spawn(ctx.io, hold_then_release(&pool, &ctx.io, &order), asio::detached);
    asio::steady_timer t(ctx.io, 5ms);
    co_await t.async_wait(asio::use_awaitable);
    auto lease = co_await pool.acquire();  // waits for the holder
    EXPECT_EQ(order, 1);
    EXPECT_EQ(pool.size(), 1u);
}

CO_TEST(PgPool, DiscardsConnectionsLeftInTransaction) {
    Pool pool(ctx.io, options(1));
    {
        auto conn = co_await pool.acquire();
        co_await conn->execute("BEGIN");
        co_await conn->execute("CREATE TEMP TABLE leak (x int)");
    }  // dropped mid-transaction: must not be reused
    EXPECT_EQ(pool.size(), 0u);
    auto conn = co_await pool.acquire();
    EXPECT_FALSE(conn->in_transaction());
    auto rows = co_await conn->query("SELECT count(*) FROM pg_class WHERE relname = 'leak'");
    EXPECT_EQ(rows.int64(0, 0), 0);
}

CO_TEST(PgPool, UnreachableServerIsUnavailable) {
    PoolOptions o;
    o.connection.dsn = "host=127.0.0.1 port=1 dbname=x connect_timeout=2";
    o.max_size = 1;
    Pool pool(ctx.io, o);
    bool unavailable = false;
    try {
        auto c = co_await pool.acquire();
    } catch (const core::UnavailableException&) {
        unavailable = true;
    }
    EXPECT_TRUE(unavailable);
    EXPECT_EQ(pool.size(), 0u);  // the failed slot is given back
}

CO_TEST(PgMigrate, SecondRunAppliesNothing) {
    Pool pool(ctx.io, options(1));
    auto conn = co_await pool.acquire();
    auto applied = co_await migrate(*conn, embedded_migrations());
    EXPECT_TRUE(applied.empty());  // the test database is already migrated
    auto rows = co_await conn->query("SELECT count(*) FROM schema_migrations");
    EXPECT_EQ(rows.int64(0, 0), static_cast<std::int64_t>(embedded_migrations().size()));
}

CO_TEST(PgMigrate, FailedMigrationLeavesNothingBehind) {
    Pool pool(ctx.io, options(1));
    auto conn = co_await pool.acquire();
    std::vector<Migration> bad{{"900_bad.sql", "CREATE TABLE half_done (x int); SELECT nope;"}};
    bool threw = false;
    try {
        co_await migrate(*conn, bad);
    } catch (const SqlError&) {
        threw = true;
    }
    EXPECT_TRUE(threw);
    auto rows = co_await conn->query(
        "SELECT (SELECT count(*) FROM pg_class WHERE relname = 'half_done'),"
        " (SELECT count(*) FROM schema_migrations WHERE name = '900_bad.sql')");
    EXPECT_EQ(rows.int64(0, 0), 0);
    EXPECT_EQ(rows.int64(0, 1), 0);
}

}  // namespace
}  // namespace msg::pg
