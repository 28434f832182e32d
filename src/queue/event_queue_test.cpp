#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <stdexcept>

#include "queue/amqp_consumer.hpp"
#include "queue/event_queue.hpp"
#include "testing/co_test.hpp"

namespace msg::queue {
namespace {

namespace json = boost::json;

Event sample(std::int64_t id = 42, std::string tenant = "acme") {
    return Event{id, std::move(tenant), "message.created", R"({"id": 7, "body": "안녕 \"q\""})",
                 "2026-12-03T10:00:00.123456Z"};
}

TEST(Envelope, CarriesTheDocumentedFields) {
    const auto v = json::parse(envelope(sample())).as_object();
    EXPECT_EQ(v.size(), 6u);
    EXPECT_EQ(v.at("id").as_string(), "acme/42");
    EXPECT_EQ(v.at("type").as_string(), "message.created");
    EXPECT_EQ(v.at("version").as_int64(), kEnvelopeVersion);
    EXPECT_EQ(v.at("tenant_id").as_string(), "acme");
    EXPECT_EQ(v.at("occurred_at").as_string(), "2026-12-03T10:00:00.123456Z");
    EXPECT_EQ(v.at("payload").at("body").as_string(), "안녕 \"q\"");
}

TEST(Envelope, EscapesNamesAndKeysRoute) {
    Event e = sample(1, "we\"ird");
    const auto v = json::parse(envelope(e)).as_object();
    EXPECT_EQ(v.at("tenant_id").as_string(), "we\"ird");
    EXPECT_EQ(routing_key(sample()), "acme.message.created");
    EXPECT_EQ(routing_key(sample(1, "")), "message.created");  // the seed's rule
    e.payload.clear();
    EXPECT_TRUE(json::parse(envelope(e)).as_object().at("payload").is_null());
}

TEST(Envelope, ParsesBackIntoTheEvent) {
    const Event e = sample();
    auto back = event_from_envelope(envelope(e));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->id, 42);
    EXPECT_EQ(back->tenant_id, "acme");
    EXPECT_EQ(back->topic, "message.created");
    EXPECT_EQ(back->occurred_at, e.occurred_at);
    EXPECT_EQ(json::parse(back->payload), json::parse(e.payload));
}

TEST(Envelope, RefusesWhatIsNotVersionOne) {
    EXPECT_FALSE(event_from_envelope("not json"));
    EXPECT_FALSE(event_from_envelope("[]"));
    const std::string ok =
        R"({"id":"acme/1","type":"t","version":1,"tenant_id":"acme","payload":{}})";
    EXPECT_TRUE(event_from_envelope(ok));
    EXPECT_FALSE(event_from_envelope(
        R"({"id":"acme/1","type":"t","version":2,"tenant_id":"acme","payload":{}})"));
    EXPECT_FALSE(event_from_envelope(  // the id names another tenant
        R"({"id":"other/1","type":"t","version":1,"tenant_id":"acme","payload":{}})"));
    EXPECT_FALSE(event_from_envelope(
        R"({"id":"acme/x","type":"t","version":1,"tenant_id":"acme","payload":{}})"));
    EXPECT_FALSE(event_from_envelope(R"({"id":"acme/1","version":1,"tenant_id":"acme"})"));
}

/// A queue whose publish fails for chosen ids: the default publish_batch and the tee.
class Picky final : public EventQueue {
  public:
    explicit Picky(std::vector<std::int64_t> refuse) : refuse_(std::move(refuse)) {}
    core::Task<void> publish(const Event& e) override {
        seen.push_back(e.id);
        for (auto id : refuse_) {
            if (id == e.id) throw std::runtime_error("refused " + std::to_string(id));
        }
        co_return;
    }
    std::vector<std::int64_t> seen;

  private:
    std::vector<std::int64_t> refuse_;
};

CO_TEST(EventQueue, DefaultBatchAnswersPerEvent) {
    Picky q({2});
    std::vector<Event> events{sample(1), sample(2), sample(3)};
    auto results = co_await q.publish_batch(events);
    EXPECT_EQ(results, (std::vector<std::string>{"", "refused 2", ""}));
    EXPECT_EQ(q.seen, (std::vector<std::int64_t>{1, 2, 3}));
}

CO_TEST(TeeQueue, SecondSeesOnlyWhatFirstTook) {
    Picky broker({2}), local({3});
    TeeQueue tee(broker, local);
    std::vector<Event> events{sample(1), sample(2), sample(3)};
    auto results = co_await tee.publish_batch(events);
    EXPECT_EQ(results, (std::vector<std::string>{"", "refused 2", "refused 3"}));
    EXPECT_EQ(broker.seen, (std::vector<std::int64_t>{1, 2, 3}));
    EXPECT_EQ(local.seen, (std::vector<std::int64_t>{1, 3}));
}

}  // namespace
}  // namespace msg::queue
