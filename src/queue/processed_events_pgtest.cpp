#include <boost/asio/io_context.hpp>

#include <functional>
#include <stdexcept>

#include "queue/processed_events.hpp"
#include "storage/pg/pool.hpp"
#include "testing/co_test.hpp"
#include "testing/pg_database.hpp"

namespace msg::queue {
namespace {

core::Task<void> counted(int& runs, const bool& fail, const Event&) {
    ++runs;
    if (fail) throw std::runtime_error("work failed");
    co_return;
}

CO_TEST(ProcessedEvents, AppliesAnEventOncePerConsumer) {
    pg::Pool pool(ctx.io, testing::test_pool_options(2));
    const std::string tenant = testing::unique_tenant("processed");
    const std::string index_name = "index-" + tenant, other_name = "other-" + tenant;
    ProcessedEvents index(pool, index_name), other(pool, other_name);
    int runs = 0;
    bool fail = false;
    const AmqpConsumer::Handler work =
        std::bind(&counted, std::ref(runs), std::cref(fail), std::placeholders::_1);
    const Event e{7, tenant, "message.created", "{}", ""};

    EXPECT_TRUE(co_await index.apply(e, work));
    EXPECT_FALSE(co_await index.apply(e, work));  // redelivered: skipped
    EXPECT_EQ(runs, 1);
    EXPECT_TRUE(co_await other.apply(e, work));  // another group applies it for itself
    EXPECT_EQ(runs, 2);
    EXPECT_EQ(index.applied(), 1u);
    EXPECT_EQ(index.duplicates(), 1u);

    // A failed attempt marks nothing: the retry runs the work again.
    const Event f{8, tenant, "message.created", "{}", ""};
    fail = true;
    bool threw = false;
    try {
        co_await index.apply(f, work);
    } catch (const std::runtime_error&) {
        threw = true;
    }
    EXPECT_TRUE(threw);
    fail = false;
    EXPECT_TRUE(co_await index.apply(f, work));
    EXPECT_EQ(runs, 4);

    // Old records go.
    {
        auto c = co_await pool.acquire();
        co_await c->query(
            "UPDATE processed_events SET processed_at = now() - interval '2 days'"
            " WHERE consumer = $1",
            index_name);
    }
    const std::chrono::seconds day(24 * 3600);
    for (int i = 0; i < 1000 && co_await index.prune(day, 1) > 0; ++i) {
    }
    auto c = co_await pool.acquire();
    auto left = co_await c->query(
        "SELECT consumer FROM processed_events WHERE consumer IN ($1, $2) ORDER BY consumer",
        index_name, other_name);
    CO_ASSERT(left.size() == 1);
    EXPECT_EQ(left.string(0, 0), other_name);
}

}  // namespace
}  // namespace msg::queue
