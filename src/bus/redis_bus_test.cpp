#include "bus/redis_bus.hpp"

#include <atomic>

#include "bus/bus_contract.hpp"
#include "redis/connection.hpp"
#include "testing/redis_server.hpp"

namespace msg::bus {
namespace {

RedisBus::Options options_for(const testing::RedisServer& server) {
    RedisBus::Options o;
    o.address = server.address();
    o.timeout = std::chrono::milliseconds(1000);
    o.reconnect_min = std::chrono::milliseconds(20);
    o.reconnect_max = std::chrono::milliseconds(200);
    o.ping_every = std::chrono::milliseconds(300);
    return o;
}

struct RedisFactory {
    static std::unique_ptr<Bus> make() {
        static testing::RedisServer server;  // one per test process, killed at exit
        return std::make_unique<RedisBus>(options_for(server));
    }
};
INSTANTIATE_TYPED_TEST_SUITE_P(Redis, BusContract, ::testing::Types<RedisFactory>);

Payload text(std::string s) { return std::make_shared<const std::string>(std::move(s)); }

/// Waits up to 5 s for `ok()`.
template <class F>
bool eventually(F ok) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!ok()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

std::vector<std::string> pubsub_channels(const testing::RedisServer& server) {
    redis::Connection c(server.address(), std::chrono::milliseconds(1000));
    auto r = c.command({"PUBSUB", "CHANNELS"});
    std::vector<std::string> out;
    for (std::size_t i = 0; i < r->elements; ++i) out.emplace_back(redis::text(*r->element[i]));
    std::sort(out.begin(), out.end());
    return out;
}

TEST(RedisBus, DeliversBetweenNodesInOrder) {
    testing::RedisServer server;
    RedisBus a(options_for(server)), b(options_for(server)), c(options_for(server));
    ASSERT_TRUE(eventually([&] { return a.connected() && b.connected() && c.connected(); }));
    Inbox on_b, on_c;
    auto sb = b.subscribe("tenant:t:room:1", on_b.handler());
    auto sc = c.subscribe("tenant:t:room:1", on_c.handler());
    ASSERT_TRUE(eventually([&] { return pubsub_channels(server).size() == 1; }));
    // NUMSUB counts connections: both nodes are subscribed before the first publish.
    ASSERT_TRUE(eventually([&] {
        redis::Connection q(server.address(), std::chrono::milliseconds(1000));
        return q.command({"PUBSUB", "NUMSUB", "tenant:t:room:1"})->element[1]->integer == 2;
    }));
    for (int i = 0; i < 200; ++i) a.publish("tenant:t:room:1", text(std::to_string(i)));
    ASSERT_TRUE(on_b.wait_for(200));
    ASSERT_TRUE(on_c.wait_for(200));
    std::vector<std::string> want;
    want.reserve(200);
    for (int i = 0; i < 200; ++i) want.push_back(std::to_string(i));
    EXPECT_EQ(on_b.texts(), want);
    EXPECT_EQ(on_c.texts(), want);
    // Counted once the publisher has read Redis' replies, which may trail the deliveries.
    EXPECT_TRUE(eventually([&] { return a.stats().published == 200u; }));
}

TEST(RedisBus, SubscribesExactlyTheChannelsWithListeners) {
    testing::RedisServer server;
    RedisBus bus(options_for(server));
    auto s1 = bus.subscribe("tenant:t:room:1", [](const Payload&) {});
    auto s2 = bus.subscribe("tenant:t:room:1", [](const Payload&) {});
    auto s3 = bus.subscribe("tenant:t:room:2", [](const Payload&) {});
    using V = std::vector<std::string>;
    ASSERT_TRUE(eventually([&] {
        return pubsub_channels(server) == V{"tenant:t:room:1", "tenant:t:room:2"};
    }));
    s1.reset();  // one listener of room 1 is left
    s3.reset();
    ASSERT_TRUE(eventually([&] { return pubsub_channels(server) == V{"tenant:t:room:1"}; }));
    // Churn: leave and come back many times; the end state is what counts.
    for (int i = 0; i < 50; ++i) {
        auto again = bus.subscribe("tenant:t:room:3", [](const Payload&) {});
        s2.reset();
        s2 = bus.subscribe("tenant:t:room:1", [](const Payload&) {});
    }
    ASSERT_TRUE(eventually([&] { return pubsub_channels(server) == V{"tenant:t:room:1"}; }));
    s2.reset();
    ASSERT_TRUE(eventually([&] { return pubsub_channels(server).empty(); }));
    EXPECT_EQ(bus.channels(), 0u);
}

TEST(RedisBus, ANodeWithoutListenersReceivesNothing) {
    testing::RedisServer server;
    RedisBus sender(options_for(server)), listener(options_for(server)), idle(options_for(server));
    Inbox in;
    auto s = listener.subscribe("tenant:t:room:7", in.handler());
    auto idle_other = idle.subscribe("tenant:t:room:8", [](const Payload&) {});
    ASSERT_TRUE(eventually([&] { return pubsub_channels(server).size() == 2; }));
    for (int i = 0; i < 50; ++i) sender.publish("tenant:t:room:7", text("x"));
    ASSERT_TRUE(in.wait_for(50));
    EXPECT_EQ(listener.stats().received, 50u);
    EXPECT_EQ(idle.stats().received, 0u);  // read nothing off the wire, not "dropped it"
    EXPECT_EQ(sender.stats().received, 0u);
}

TEST(RedisBus, OwnPublishesRightAfterSubscribingArriveOnce) {
    testing::RedisServer server;
    RedisBus bus(options_for(server));
    for (int round = 0; round < 20; ++round) {
        Inbox in;
        const std::string channel = "fresh:" + std::to_string(round);
        auto s = bus.subscribe(channel, in.handler());
        for (int i = 0; i < 20; ++i) bus.publish(channel, text(std::to_string(i)));
        ASSERT_TRUE(in.wait_for(20));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // room for a duplicate
        auto got = in.texts();
        ASSERT_EQ(got.size(), 20u) << "round " << round;
        for (int i = 0; i < 20; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], std::to_string(i));
    }
}

TEST(RedisBus, OutageKeepsLocalDeliveryThenResubscribesAndReportsTheGap) {
    testing::RedisServer server;
    RedisBus a(options_for(server)), b(options_for(server));
    Inbox on_a, on_b;
    std::atomic<int> gaps_a{0}, gaps_b{0};
    auto sa = a.subscribe("tenant:t:room:1", on_a.handler(), [&] { ++gaps_a; });
    auto sb = b.subscribe("tenant:t:room:1", on_b.handler(), [&] { ++gaps_b; });
    ASSERT_TRUE(eventually([&] {
        redis::Connection q(server.address(), std::chrono::milliseconds(1000));
        return q.command({"PUBSUB", "NUMSUB", "tenant:t:room:1"})->element[1]->integer == 2;
    }));
    a.publish("tenant:t:room:1", text("before"));
    ASSERT_TRUE(on_b.wait_for(1));
    ASSERT_TRUE(on_a.wait_for(1));  // a hears its own publish back from Redis, before it dies

    server.stop();
    ASSERT_TRUE(eventually([&] { return !a.connected() && !b.connected(); }));
    a.publish("tenant:t:room:1", text("during"));
    ASSERT_TRUE(on_a.wait_for(2));  // local delivery goes on
    EXPECT_EQ(on_a.texts(), (std::vector<std::string>{"before", "during"}));
    EXPECT_EQ(gaps_a, 0);

    server.start();
    ASSERT_TRUE(eventually([&] { return a.connected() && b.connected(); }));
    ASSERT_TRUE(eventually([&] { return gaps_a == 1 && gaps_b == 1; }));
    EXPECT_GE(a.stats().reconnects, 1u);
    a.publish("tenant:t:room:1", text("after"));
    ASSERT_TRUE(on_b.wait_for(2));
    EXPECT_EQ(on_b.texts(), (std::vector<std::string>{"before", "after"}));  // "during": gone
    ASSERT_TRUE(on_a.wait_for(3));
    EXPECT_EQ(on_a.texts().back(), "after");
    // b's publisher sat idle through the outage on a connection Redis had closed: its first
    // publish after the restart still reaches a.
    b.publish("tenant:t:room:1", text("from b"));
    ASSERT_TRUE(on_a.wait_for(4));
    EXPECT_EQ(on_a.texts().back(), "from b");
}

TEST(RedisBus, StartsDegradedWithoutRedisAndConnectsLater) {
    testing::RedisServer server;
    server.stop();
    RedisBus bus(options_for(server));
    EXPECT_FALSE(bus.connected());
    Inbox in;
    std::atomic<int> gaps{0};
    auto s = bus.subscribe("c", in.handler(), [&] { ++gaps; });
    bus.publish("c", text("local"));
    ASSERT_TRUE(in.wait_for(1));
    server.start();
    ASSERT_TRUE(eventually([&] { return bus.connected(); }));
    ASSERT_TRUE(eventually([&] { return pubsub_channels(server).size() == 1; }));
    // Other nodes' frames of the time without Redis are gone: the listener hears of it.
    ASSERT_TRUE(eventually([&] { return gaps == 1; }));
}

}  // namespace
}  // namespace msg::bus
