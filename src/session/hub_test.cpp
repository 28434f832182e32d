#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <mutex>

#include "bus/inproc_bus.hpp"
#include "session/events.hpp"
#include "session/hub.hpp"
#include "testing/fake_socket.hpp"

namespace msg::session {
namespace {

namespace json = boost::json;

using testing::FakeSocket;

const std::string kSession = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";

struct Node {
    bus::InprocBus bus;
    SessionEvents events{bus};
    SessionHub hub{bus};
    std::shared_ptr<FakeSocket> add(const std::string& tenant, std::int64_t user, std::uint64_t id,
                                    std::int64_t generation = 1) {
        auto s = std::make_shared<FakeSocket>(id);
        hub.add(tenant, user, {kSession, generation, s});
        return s;
    }
};

std::string type_of(const std::string& frame) {
    return std::string(json::parse(frame).as_object().at("type").as_string());
}

TEST(SessionHub, BroadcastReachesEverySocketOfTheTenantOnly) {
    Node s;
    auto a1 = s.add("acme", 1, 1), a1b = s.add("acme", 1, 2), a2 = s.add("acme", 2, 3);
    auto other = s.add("beta", 1, 4);
    s.events.broadcast_tenant("acme", json::object{{"type", "status.changed"}});
    EXPECT_EQ(a1->frames().size(), 1u);
    EXPECT_EQ(a1b->frames().size(), 1u);  // two sockets of one device both get it
    EXPECT_EQ(a2->frames().size(), 1u);
    EXPECT_TRUE(other->frames().empty());
    EXPECT_EQ(s.hub.sockets(), 4u);
}

TEST(SessionHub, NotifyUsersGivesEachUserItsOwnPayload) {
    Node s;
    auto u1 = s.add("acme", 1, 1), u2 = s.add("acme", 2, 2), u3 = s.add("acme", 3, 3);
    std::vector<std::pair<std::int64_t, json::object>> payloads{
        {1, json::object{{"type", "note.received"}, {"recipient_type", "to"}}},
        {2, json::object{{"type", "note.received"}, {"recipient_type", "bcc"}}}};
    s.events.notify_users("acme", payloads);
    ASSERT_EQ(u1->frames().size(), 1u);
    ASSERT_EQ(u2->frames().size(), 1u);
    EXPECT_TRUE(u3->frames().empty());
    EXPECT_EQ(json::parse(u1->frames()[0]).as_object().at("recipient_type"), "to");
    EXPECT_EQ(json::parse(u2->frames()[0]).as_object().at("recipient_type"), "bcc");
}

TEST(SessionHub, NotifyUserAndTheSeedWireFormat) {
    Node s;
    auto u1 = s.add("acme", 1, 1);
    s.events.notify_user("acme", 1, json::object{{"type", "x"}});
    // A seed node's event: string ids, payload_by values as JSON text.
    s.bus.publish(std::string(kEventsChannel),
                  std::make_shared<const std::string>(
                      R"({"kind":"notify_users","tenant_id":"acme","user_ids":["1"],)"
                      R"("payload_by":{"1":"{\"type\":\"chat.notification\"}"}})"));
    // Garbage and unknown kinds are ignored.
    s.bus.publish(std::string(kEventsChannel), std::make_shared<const std::string>("not json"));
    s.bus.publish(std::string(kEventsChannel),
                  std::make_shared<const std::string>(R"({"kind":"other","tenant_id":"acme"})"));
    auto frames = u1->frames();
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(type_of(frames[0]), "x");
    EXPECT_EQ(type_of(frames[1]), "chat.notification");
}

TEST(SessionHub, CloseSessionClosesOlderGenerationsOfThatSessionOnly) {
    Node s;
    auto old_socket = s.add("acme", 1, 1, 1);
    auto new_socket = s.add("acme", 1, 2, 2);
    auto other_user = s.add("acme", 2, 3, 1);  // same session id string, another user
    s.events.close_session("acme", 1, kSession, 2);
    EXPECT_EQ(old_socket->close_code(), 1008);
    EXPECT_EQ(new_socket->close_code(), 0);
    EXPECT_EQ(other_user->close_code(), 0);
}

TEST(SessionHub, RemovedSocketsGetNothing) {
    Node s;
    auto a = s.add("acme", 1, 1);
    s.hub.remove("acme", 1, 1);
    s.events.broadcast_tenant("acme", json::object{{"type", "status.changed"}});
    EXPECT_TRUE(a->frames().empty());
    EXPECT_EQ(s.hub.sockets(), 0u);
}

}  // namespace
}  // namespace msg::session
