#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

#include "amqp/connection.hpp"
#include "testing/amqp_broker.hpp"

namespace msg::amqp {
namespace {

using std::chrono::milliseconds;

TEST(Connection, PublishesWithConfirmsAndReadsBack) {
    const Url url = testing::test_amqp_url();
    Connection c(url, milliseconds(5000));
    const auto exchange = testing::unique_amqp_name("test.x");
    const auto queue = testing::unique_amqp_name("test.q");
    c.declare_exchange(exchange, "topic");
    c.declare_queue(queue, /*durable=*/false, /*exclusive=*/true, /*auto_delete=*/true);
    c.bind_queue(queue, exchange, "acme.#");
    c.confirm_select();

    Properties p;
    p.message_id = "acme/1";
    p.type = "message.created";
    p.timestamp = 1'700'000'000;
    p.headers = {{"x-reason", "test"}};
    EXPECT_EQ(c.publish(exchange, "acme.message.created", R"({"n":1})", p), 1u);
    EXPECT_EQ(c.publish(exchange, "other.message.created", R"({"n":2})", p), 2u);  // unrouted
    // Confirms may come in any order (the unrouted one needs no enqueue) and may cover many.
    std::set<std::uint64_t> confirmed;
    while (confirmed.size() < 2) {
        auto confirm = c.next_confirm(milliseconds(5000));
        ASSERT_TRUE(confirm) << "no confirm";
        EXPECT_TRUE(confirm->ack);
        for (std::uint64_t t = confirm->multiple ? 1 : confirm->tag; t <= confirm->tag; ++t) {
            confirmed.insert(t);
        }
    }
    EXPECT_EQ(c.queue_length(queue), 1u);

    auto m = c.get(queue, /*auto_ack=*/false);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->routing_key, "acme.message.created");
    EXPECT_EQ(m->exchange, exchange);
    EXPECT_EQ(m->body, R"({"n":1})");
    EXPECT_EQ(m->properties.message_id, "acme/1");
    EXPECT_EQ(m->properties.type, "message.created");
    EXPECT_EQ(m->properties.content_type, "application/json");
    EXPECT_TRUE(m->properties.persistent);
    EXPECT_EQ(m->properties.timestamp, 1'700'000'000);
    EXPECT_EQ(m->properties.headers.at("x-reason"), "test");
    c.ack(m->delivery_tag);
    EXPECT_FALSE(c.get(queue, false));  // the unrouted one went nowhere
    c.delete_exchange(exchange);
}

TEST(Connection, AMandatoryMessageNoQueueTakesIsReturnedBeforeItsConfirm) {
    Connection c(testing::test_amqp_url(), milliseconds(5000));
    c.confirm_select();
    const auto queue = testing::unique_amqp_name("test.q");
    c.publish("", queue, "{}", {}, /*mandatory=*/true);  // no such queue yet
    auto first = c.next_confirm(milliseconds(5000));
    ASSERT_TRUE(first);
    EXPECT_TRUE(first->ack);  // confirmed all the same: the return is what says it went nowhere
    EXPECT_TRUE(c.take_returned());
    EXPECT_FALSE(c.take_returned());
    c.declare_queue(queue, /*durable=*/false, /*exclusive=*/true, /*auto_delete=*/true);
    c.publish("", queue, "{}", {}, /*mandatory=*/true);
    auto second = c.next_confirm(milliseconds(5000));
    ASSERT_TRUE(second);
    EXPECT_TRUE(second->ack);
    EXPECT_FALSE(c.take_returned());
    EXPECT_EQ(c.queue_length(queue), 1u);
}

TEST(Connection, WrongPasswordIsRefusedWithoutShowingIt) {
    Url url = testing::test_amqp_url();
    url.password = "not-the-password-xyz";
    try {
        Connection c(url, milliseconds(5000));
        FAIL() << "login with a wrong password succeeded";
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("login"), std::string::npos) << what;
        EXPECT_EQ(what.find("not-the-password-xyz"), std::string::npos) << what;
    }
}

TEST(Connection, UnreachableBrokerFailsWithinTheTimeout) {
    Url url = testing::test_amqp_url();
    url.port = 1;  // nothing listens there
    const auto started = std::chrono::steady_clock::now();
    EXPECT_THROW(Connection(url, milliseconds(2000)), std::runtime_error);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(Connection, ChannelErrorThrowsAndBreaksTheConnection) {
    Connection c(testing::test_amqp_url(), milliseconds(5000));
    c.confirm_select();
    // Publishing to an exchange that does not exist: the broker closes the channel (404).
    c.publish(testing::unique_amqp_name("missing"), "k", "{}", {});
    try {
        while (c.next_confirm(milliseconds(5000))) {
        }
        FAIL() << "no channel error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("404"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace msg::amqp
