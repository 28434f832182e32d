#include <boost/asio/io_context.hpp>

#include <stdexcept>

#include "queue/outbox_relay.hpp"
#include "storage/pg/pool.hpp"
#include "testing/co_test.hpp"
#include "testing/pg_database.hpp"

namespace msg::queue {
namespace {

pg::PoolOptions options() { return testing::test_pool_options(2); }

/// Outbox rows of a fresh tenant only, so tests sharing the database do not see each other.
core::Task<std::string> add_events(pg::Pool& pool, int n) {
    auto tenant = testing::unique_tenant("relay");
    auto c = co_await pool.acquire();
    co_await c->query("INSERT INTO tenants (tenant_id, name) VALUES ($1, $1)", tenant);
    for (int i = 0; i < n; ++i) {
        const std::string payload = R"({"n":)" + std::to_string(i) + "}";
        co_await c->query(
            "INSERT INTO outbox (tenant_id, topic, payload) VALUES ($1, $2, $3::jsonb)", tenant,
            "message.created", payload);
    }
    co_return tenant;
}

CO_TEST(OutboxRelay, PublishesInOrderAndMarksRows) {
    pg::Pool pool(ctx.io, options());
    auto tenant = co_await add_events(pool, 3);
    InprocQueue queue;
    std::vector<std::string> seen;
    queue.subscribe("message.created", [&](const Event& e) {
        if (e.tenant_id == tenant) seen.push_back(e.payload);
    });
    OutboxRelay relay(pool, queue, {});
    while (co_await relay.run_once() > 0) {
    }
    EXPECT_EQ(seen, (std::vector<std::string>{R"({"n": 0})", R"({"n": 1})", R"({"n": 2})"}));
    auto c = co_await pool.acquire();
    auto rows = co_await c->query(
        "SELECT count(*) FILTER (WHERE published_at IS NULL) FROM outbox WHERE tenant_id = $1",
        tenant);
    EXPECT_EQ(rows.int64(0, 0), 0);
    EXPECT_EQ(co_await relay.run_once(), 0u);  // nothing is published twice
}

CO_TEST(OutboxRelay, FailedPublishIsRetriedLater) {
    pg::Pool pool(ctx.io, options());
    auto tenant = co_await add_events(pool, 1);
    InprocQueue queue;
    int calls = 0;
    bool fail = true;
    queue.subscribe("message.created", [&](const Event& e) {
        if (e.tenant_id != tenant) return;
        ++calls;
        if (fail) throw std::runtime_error("consumer down");
    });
    OutboxRelay relay(pool, queue, {.retry_backoff = std::chrono::milliseconds(0)});
    while (co_await relay.run_once() > 0) {
    }
    EXPECT_EQ(calls, 1);
    {
        auto c = co_await pool.acquire();
        auto rows = co_await c->query(
            "SELECT attempts, published_at IS NULL FROM outbox WHERE tenant_id = $1", tenant);
        EXPECT_EQ(rows.int64(0, 0), 1);
        EXPECT_TRUE(rows.boolean(0, 1));
    }
    fail = false;
    while (co_await relay.run_once() > 0) {
    }
    EXPECT_EQ(calls, 2);  // delivered again: at least once
    auto c = co_await pool.acquire();
    auto rows = co_await c->query(
        "SELECT published_at IS NOT NULL FROM outbox WHERE tenant_id = $1", tenant);
    EXPECT_TRUE(rows.boolean(0, 0));
}

/// The `n` of the tenant's rows still in the outbox, in id order.
core::Task<std::vector<std::string>> remaining(pg::Pool& pool, const std::string& tenant) {
    auto c = co_await pool.acquire();
    auto rows = co_await c->query(
        "SELECT payload->>'n' FROM outbox WHERE tenant_id = $1 ORDER BY id", tenant);
    std::vector<std::string> out;
    for (int i = 0; i < rows.size(); ++i) out.push_back(rows.string(i, 0));
    co_return out;
}

CO_TEST(OutboxRelay, PrunesPublishedRowsUpToTheGivenId) {
    pg::Pool pool(ctx.io, options());
    auto tenant = co_await add_events(pool, 4);
    std::vector<std::int64_t> ids;
    {
        // Rows 0, 1 and 2 published, row 3 never.
        auto c = co_await pool.acquire();
        auto rows =
            co_await c->query("SELECT id FROM outbox WHERE tenant_id = $1 ORDER BY id", tenant);
        for (int i = 0; i < rows.size(); ++i) ids.push_back(rows.int64(i, 0));
        co_await c->query(
            "UPDATE outbox SET published_at = now() WHERE tenant_id = $1 AND payload->>'n' <> '3'",
            tenant);
    }
    CO_ASSERT(ids.size() == 4u);
    InprocQueue queue;
    OutboxRelay relay(pool, queue, {.prune_batch = 1});
    // One row a statement here; other tests' rows below the id may go too, so look at ours.
    for (int i = 0; i < 1000 && co_await relay.prune_once(ids[1]) > 0; ++i) {
    }
    auto after_first = co_await remaining(pool, tenant);
    EXPECT_EQ(after_first, (std::vector<std::string>{"2", "3"}));
    for (int i = 0; i < 1000 && co_await relay.prune_once(ids[3]) > 0; ++i) {
    }
    auto after_second = co_await remaining(pool, tenant);
    EXPECT_EQ(after_second, (std::vector<std::string>{"3"}));  // never published: kept
}

}  // namespace
}  // namespace msg::queue
