// AmqpConsumer against the run's RabbitMQ: deliveries reach the handler and are acked, a
// failing event goes through the delay queues with its attempts counted and lands in the
// dead-letter queue with the reason, `replay` brings it back, garbage goes straight there.
#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <functional>

#include <mutex>
#include <stdexcept>
#include <thread>

#include "amqp/connection.hpp"
#include "queue/amqp_consumer.hpp"
#include "queue/amqp_queue.hpp"
#include "testing/amqp_broker.hpp"

namespace msg::queue {
namespace {

using std::chrono::milliseconds;

/// An event loop on a thread of its own, as a server has.
struct Loop {
    Loop() : guard(io.get_executor()), thread([this] { io.run(); }) {}
    ~Loop() {
        guard.reset();
        io.stop();
        thread.join();
    }
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard;
    std::thread thread;
};

template <class F>
bool eventually(F done, milliseconds within = milliseconds(20'000)) {
    const auto until = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < until) {
        if (done()) return true;
        std::this_thread::sleep_for(milliseconds(20));
    }
    return done();
}

/// What the handler saw, from the event loop's thread.
struct Seen {
    std::mutex mutex;
    std::vector<std::string> ids;
    int calls = 0;
    void add(const Event& e) {
        std::lock_guard lock(mutex);
        ids.push_back(event_id(e));
        ++calls;
    }
    int count() {
        std::lock_guard lock(mutex);
        return calls;
    }
};

struct Names {
    std::string tenant = testing::unique_amqp_name("t");
    std::string exchange = testing::unique_amqp_name("test.events");
    std::string group = testing::unique_amqp_name("group");
    std::string prefix = testing::unique_amqp_name("test");
};

AmqpConsumer::Options consumer_options(const Names& n) {
    AmqpConsumer::Options o;
    o.url = testing::test_amqp_url();
    o.exchange = n.exchange;
    o.group = n.group;
    o.bindings = {n.tenant + ".#"};
    o.prefix = n.prefix;
    o.max_attempts = 3;
    o.retry_delays = {milliseconds(100), milliseconds(200)};
    o.reconnect = milliseconds(100);
    return o;
}

std::vector<Event> events_of(const std::string& tenant, int n) {
    std::vector<Event> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(Event{i + 1, tenant, "message.created",
                            R"({"id":)" + std::to_string(i + 1) + "}", "2026-12-03T00:00:00Z"});
    }
    return out;
}

// Handlers are named coroutines bound to their state: a capturing coroutine lambda is what
// GCC 12 miscompiles (BUILD-NOTES).
core::Task<void> record(Seen& seen, const Event& e) {
    seen.add(e);
    co_return;
}

core::Task<void> record_or_fail(Seen& seen, std::atomic<bool>& broken, const Event& e) {
    seen.add(e);
    if (broken) throw std::runtime_error("index backend down");
    co_return;
}

AmqpConsumer::Handler recorder(Seen& seen) {
    return std::bind(&record, std::ref(seen), std::placeholders::_1);
}

core::Task<void> publish_batch(AmqpQueue& q, const std::vector<Event>& events,
                               std::vector<std::string>& out) {
    out = co_await q.publish_batch(events);
}

/// Publishes through the real publisher (confirmed) and waits for it.
void publish(const Names& n, const std::vector<Event>& events) {
    AmqpQueue::Options o;
    o.url = testing::test_amqp_url();
    o.exchange = n.exchange;
    AmqpQueue q(std::move(o));
    boost::asio::io_context io;
    std::vector<std::string> results;
    boost::asio::co_spawn(io, publish_batch(q, events, results), boost::asio::detached);
    io.run();
    ASSERT_EQ(results, std::vector<std::string>(events.size()));
}

TEST(AmqpConsumer, HandlesAndAcksEveryDelivery) {
    Names n;
    Loop loop;
    Seen seen;
    AmqpConsumer consumer(consumer_options(n), loop.io, recorder(seen));
    consumer.start();
    ASSERT_TRUE(eventually([&] { return consumer.connected(); }));  // queue declared and bound
    publish(n, events_of(n.tenant, 20));
    ASSERT_TRUE(eventually([&] { return consumer.handled() == 20; })) << consumer.handled();
    consumer.stop();
    EXPECT_EQ(seen.count(), 20);
    EXPECT_EQ(seen.ids.front(), n.tenant + "/1");
    EXPECT_EQ(consumer.retried(), 0u);
    amqp::Connection check(testing::test_amqp_url(), milliseconds(5000));
    EXPECT_EQ(check.queue_length(consumer.queue_name()), 0u);  // all acked
}

TEST(AmqpConsumer, FailuresAreRetriedThenDeadLetteredAndReplayed) {
    Names n;
    Loop loop;
    Seen seen;
    std::atomic<bool> broken{true};
    AmqpConsumer consumer(
        consumer_options(n), loop.io,
        std::bind(&record_or_fail, std::ref(seen), std::ref(broken), std::placeholders::_1));
    consumer.start();
    ASSERT_TRUE(eventually([&] { return consumer.connected(); }));
    publish(n, events_of(n.tenant, 1));
    ASSERT_TRUE(eventually([&] { return consumer.dead() == 1; }));
    EXPECT_EQ(seen.count(), 3);  // max_attempts, through both delay queues
    EXPECT_EQ(consumer.retried(), 2u);
    EXPECT_EQ(consumer.handled(), 0u);

    auto letters = list_dead_letters(testing::test_amqp_url(), n.prefix, 100);
    ASSERT_EQ(letters.size(), 1u);
    EXPECT_EQ(letters[0].event_id, n.tenant + "/1");
    EXPECT_EQ(letters[0].type, "message.created");
    EXPECT_EQ(letters[0].group, n.group);
    EXPECT_EQ(letters[0].attempts, 3);
    EXPECT_EQ(letters[0].reason, "index backend down");
    EXPECT_EQ(letters[0].routing_key, n.tenant + ".message.created");
    // Listing leaves them where they are.
    EXPECT_EQ(list_dead_letters(testing::test_amqp_url(), n.prefix, 100).size(), 1u);

    broken = false;
    EXPECT_EQ(replay_dead_letters(testing::test_amqp_url(), n.prefix, "other-group", 100), 0u);
    EXPECT_EQ(replay_dead_letters(testing::test_amqp_url(), n.prefix, n.group, 100), 1u);
    ASSERT_TRUE(eventually([&] { return consumer.handled() == 1; }));
    EXPECT_EQ(seen.count(), 4);
    EXPECT_TRUE(list_dead_letters(testing::test_amqp_url(), n.prefix, 100).empty());
    consumer.stop();
}

TEST(AmqpConsumer, GarbageGoesStraightToTheDeadLetters) {
    Names n;
    Loop loop;
    Seen seen;
    AmqpConsumer consumer(consumer_options(n), loop.io, recorder(seen));
    consumer.start();
    ASSERT_TRUE(eventually([&] { return consumer.connected(); }));
    amqp::Connection raw(testing::test_amqp_url(), milliseconds(5000));
    raw.publish(n.exchange, n.tenant + ".message.created", "not json", {});
    raw.publish(n.exchange, n.tenant + ".message.created",
                R"({"id":"other/1","type":"x","version":1,"tenant_id":"mine","payload":{}})", {});
    ASSERT_TRUE(eventually([&] { return consumer.dead() == 2; }));
    EXPECT_EQ(seen.count(), 0);
    auto letters = list_dead_letters(testing::test_amqp_url(), n.prefix, 100);
    ASSERT_EQ(letters.size(), 2u);
    EXPECT_EQ(letters[0].reason, "not a version 1 envelope");
    EXPECT_EQ(letters[0].attempts, 1);
    consumer.stop();
}

}  // namespace
}  // namespace msg::queue
