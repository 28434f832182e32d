// The EventQueue contract, run against both implementations: the in-process queue (consumers
// subscribed in this process) and AmqpQueue over the test run's RabbitMQ (a consumer reading a
// queue bound to the exchange). Plus what only a broker can get wrong.
#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <memory>
#include <thread>
#include <utility>

#include "amqp/connection.hpp"
#include "queue/amqp_queue.hpp"
#include "queue/event_queue.hpp"
#include "testing/amqp_broker.hpp"
#include "testing/co_test.hpp"

namespace msg::queue {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

/// What a consumer saw of one event.
struct Received {
    std::string id, tenant_id, type, payload, routing_key;
    bool operator==(const Received&) const = default;
};

Received expected(const Event& e) {
    return {event_id(e), e.tenant_id, e.topic, json::serialize(json::parse(e.payload)),
            routing_key(e)};
}

class Harness {
  public:
    virtual ~Harness() = default;
    virtual EventQueue& queue() = 0;
    /// Everything consumed so far for `tenant`, in arrival order.
    virtual std::vector<Received> drain() = 0;
};

class InprocHarness final : public Harness {
  public:
    explicit InprocHarness(std::string tenant) : tenant_(std::move(tenant)) {
        queue_.subscribe("message.created", [this](const Event& e) {
            if (e.tenant_id == tenant_) seen_.push_back(expected(e));
        });
    }
    EventQueue& queue() override { return queue_; }
    std::vector<Received> drain() override { return std::exchange(seen_, {}); }

  private:
    std::string tenant_;
    InprocQueue queue_;
    std::vector<Received> seen_;
};

class AmqpHarness final : public Harness {
  public:
    explicit AmqpHarness(const std::string& tenant,
                         std::chrono::milliseconds min_backoff = std::chrono::milliseconds(250))
        : exchange_(testing::unique_amqp_name("test.events")),
          queue_name_(testing::unique_amqp_name("test.consumer")),
          consumer_(testing::test_amqp_url(), milliseconds(5000)) {
        consumer_.declare_exchange(exchange_, "topic");
        consumer_.declare_queue(queue_name_, false, true, true);
        consumer_.bind_queue(queue_name_, exchange_, tenant + ".#");
        AmqpQueue::Options o;
        o.url = testing::test_amqp_url();
        o.exchange = exchange_;
        o.min_backoff = min_backoff;
        queue_ = std::make_unique<AmqpQueue>(std::move(o));
    }
    ~AmqpHarness() override {
        queue_.reset();
        try {
            consumer_.delete_exchange(exchange_);
        } catch (const std::exception&) {  // a test that broke the channel already said so
        }
    }
    EventQueue& queue() override { return *queue_; }
    AmqpQueue& amqp() { return *queue_; }
    amqp::Connection& consumer() { return consumer_; }
    const std::string& exchange() const { return exchange_; }
    const std::string& queue_name() const { return queue_name_; }
    std::vector<Received> drain() override {
        std::vector<Received> out;
        while (auto m = consumer_.get(queue_name_, true)) {
            const auto env = json::parse(m->body).as_object();
            EXPECT_EQ(env.at("version").as_int64(), kEnvelopeVersion);
            EXPECT_TRUE(m->properties.persistent);
            EXPECT_EQ(m->properties.message_id, std::string(env.at("id").as_string()));
            out.push_back({std::string(env.at("id").as_string()),
                           std::string(env.at("tenant_id").as_string()),
                           std::string(env.at("type").as_string()),
                           json::serialize(env.at("payload")), m->routing_key});
        }
        return out;
    }

  private:
    std::string exchange_, queue_name_;
    amqp::Connection consumer_;
    std::unique_ptr<AmqpQueue> queue_;
};

std::vector<Event> events_of(const std::string& tenant, int n, std::int64_t first_id = 1) {
    std::vector<Event> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(Event{first_id + i, tenant, "message.created",
                            R"({"id":)" + std::to_string(1000 + i) + R"(,"body":"본문 )" +
                                std::to_string(i) + R"("})",
                            "2026-12-03T10:00:00.000000Z"});
    }
    return out;
}

std::vector<Received> expected_of(const std::vector<Event>& events) {
    std::vector<Received> out;
    for (const auto& e : events) out.push_back(expected(e));
    return out;
}

// ---- the contract --------------------------------------------------------------------------

core::Task<void> batch_arrives_once_in_order(Harness& h, const std::string& tenant) {
    auto events = events_of(tenant, 50);
    auto results = co_await h.queue().publish_batch(events);
    EXPECT_EQ(results, std::vector<std::string>(50));  // every one taken
    EXPECT_EQ(h.drain(), expected_of(events));
    EXPECT_TRUE(h.drain().empty());  // once
}

core::Task<void> single_publish_arrives(Harness& h, const std::string& tenant) {
    auto events = events_of(tenant, 1, 77);
    co_await h.queue().publish(events[0]);
    EXPECT_EQ(h.drain(), expected_of(events));
}

CO_TEST(EventQueueContract, InprocBatch) {
    const auto tenant = testing::unique_amqp_name("t");
    InprocHarness h(tenant);
    co_await batch_arrives_once_in_order(h, tenant);
}

CO_TEST(EventQueueContract, AmqpBatch) {
    const auto tenant = testing::unique_amqp_name("t");
    AmqpHarness h(tenant);
    co_await batch_arrives_once_in_order(h, tenant);
    EXPECT_TRUE(h.amqp().connected());
}

CO_TEST(EventQueueContract, InprocSingle) {
    const auto tenant = testing::unique_amqp_name("t");
    InprocHarness h(tenant);
    co_await single_publish_arrives(h, tenant);
}

CO_TEST(EventQueueContract, AmqpSingle) {
    const auto tenant = testing::unique_amqp_name("t");
    AmqpHarness h(tenant);
    co_await single_publish_arrives(h, tenant);
}

// ---- broker only ---------------------------------------------------------------------------

CO_TEST(AmqpQueue, RoutesByTenant) {
    const auto tenant = testing::unique_amqp_name("t");
    AmqpHarness h(tenant);
    auto mine = events_of(tenant, 2);
    auto theirs = events_of(tenant + "x", 2, 10);  // not under "<tenant>.#"
    std::vector<Event> all{mine[0], theirs[0], mine[1], theirs[1]};
    auto results = co_await h.queue().publish_batch(all);
    EXPECT_EQ(results, std::vector<std::string>(4));  // confirmed even when unrouted
    EXPECT_EQ(h.drain(), expected_of(mine));
}

CO_TEST(AmqpQueue, UnreachableBrokerRefusesFastAndBacksOff) {
    AmqpQueue::Options o;
    o.url = testing::test_amqp_url();
    o.url.port = 1;
    o.min_backoff = std::chrono::seconds(30);  // the second batch surely falls inside it
    AmqpQueue q(std::move(o));
    auto events = events_of("t", 3);
    auto first = co_await q.publish_batch(events);
    CO_ASSERT(first.size() == 3u);
    for (const auto& r : first) {
        EXPECT_NE(r.find("connect"), std::string::npos) << r;
        EXPECT_EQ(r.find("guest:guest"), std::string::npos) << r;  // no credentials
    }
    // Within the backoff the next batch is refused without a new attempt.
    auto second = co_await q.publish_batch(events);
    EXPECT_NE(second[0].find("broker unavailable"), std::string::npos) << second[0];
    EXPECT_FALSE(q.connected());
    bool threw = false;
    try {
        co_await q.publish(events[0]);
    } catch (const std::runtime_error&) {
        threw = true;
    }
    EXPECT_TRUE(threw);
}

CO_TEST(AmqpQueue, ReconnectsAndDeclaresAgainAfterTheChannelBreaks) {
    const auto tenant = testing::unique_amqp_name("t");
    AmqpHarness h(tenant, std::chrono::milliseconds(500));
    auto before = events_of(tenant, 3);
    auto published = co_await h.queue().publish_batch(before);
    EXPECT_EQ(published, std::vector<std::string>(3));
    EXPECT_EQ(h.drain(), expected_of(before));
    // The exchange disappears under the publisher: its next publish ends the channel (404), so
    // nothing of that batch counts as handed over.
    h.consumer().delete_exchange(h.exchange());
    auto lost = events_of(tenant, 2, 100);
    auto failed = co_await h.queue().publish_batch(lost);
    CO_ASSERT(failed.size() == 2u);
    EXPECT_NE(failed[0].find("404"), std::string::npos) << failed[0];
    EXPECT_NE(failed[1].find("404"), std::string::npos) << failed[1];
    EXPECT_FALSE(h.amqp().connected());
    // Within the backoff the next batch does not even try.
    auto early = co_await h.queue().publish_batch(lost);
    EXPECT_NE(early[0].find("broker unavailable"), std::string::npos) << early[0];
    // The consumer binds again; after the backoff the publisher's next batch reconnects and
    // declares the exchange.
    h.consumer().declare_exchange(h.exchange(), "topic");
    h.consumer().bind_queue(h.queue_name(), h.exchange(), tenant + ".#");
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    auto after = events_of(tenant, 2, 200);
    auto republished = co_await h.queue().publish_batch(after);
    EXPECT_EQ(republished, std::vector<std::string>(2));
    EXPECT_TRUE(h.amqp().connected());
    EXPECT_EQ(h.drain(), expected_of(after));
}

}  // namespace
}  // namespace msg::queue
