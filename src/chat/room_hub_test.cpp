#include <gtest/gtest.h>

#include <mutex>

#include "bus/inproc_bus.hpp"
#include "chat/room_hub.hpp"
#include "core/timers.hpp"
#include "testing/fake_socket.hpp"

namespace msg::chat {
namespace {

using namespace std::chrono_literals;

/// Records what the hub sends to one socket.
using testing::FakeSocket;

std::string message(int seq) {
    return R"({"type":"message","room_id":1,"user_id":2,"target_id":"","payload":{"seq":)" +
           std::to_string(seq) + "}}";
}

std::string resync(int after_seq) {
    return R"({"type":"resync_required","room_id":1,"payload":{"after_seq":)" +
           std::to_string(after_seq) + "}}";
}

/// The hub's time: nothing fires until a test advances it (no wall-clock windows).
struct Time {
    core::ManualClock clock;
    core::ManualTimers timers{clock};
};

void publish(bus::Bus& bus, const RoomEvent& event) {
    bus.publish(bus::room_channel("t", 1), encode(event));
}

/// Message `seq` as the service publishes it.
RoomEvent sent(int seq) {
    return {RoomEvent::Kind::message, 1, seq, 0, std::make_shared<const std::string>(message(seq))};
}

/// A hub with one socket (id 1, user 7) in room 1, on an in-process bus and the test's time.
struct OneSocket {
    explicit OneSocket(std::chrono::milliseconds gap_wait)
        : hub(bus, time.timers, time.clock, gap_wait) {
        hub.join("t", 1, 7, socket);
    }
    Time time;
    bus::InprocBus bus;
    RoomHub hub;
    std::shared_ptr<FakeSocket> socket = std::make_shared<FakeSocket>(1);
};

TEST(RoomHub, DeliversSwappedPublishesInSeqOrder) {
    OneSocket f(10s);  // no gap flush during this test
    publish(f.bus, sent(1));
    publish(f.bus, sent(3));
    publish(f.bus, sent(2));
    publish(f.bus, sent(4));
    EXPECT_EQ(f.socket->frames(),
              (std::vector<std::string>{message(1), message(2), message(3), message(4)}));
}

TEST(RoomHub, FlushesAGapThatDoesNotFill) {
    OneSocket f(20ms);
    publish(f.bus, sent(5));
    publish(f.bus, sent(7));  // 6 never comes
    EXPECT_EQ(f.socket->frames(), std::vector<std::string>{message(5)});
    f.time.timers.advance(19ms);
    EXPECT_EQ(f.socket->frames(), std::vector<std::string>{message(5)});  // not yet
    f.time.timers.advance(1ms);                                           // the gap timer fires
    EXPECT_EQ(f.socket->frames(), (std::vector<std::string>{message(5), resync(5), message(7)}));
    publish(f.bus, sent(6));  // late: the socket was told to fetch it by seq
    publish(f.bus, sent(8));
    EXPECT_EQ(f.socket->frames(),
              (std::vector<std::string>{message(5), resync(5), message(7), message(8)}));
}

TEST(RoomHub, DeliversEachSeqOnce) {
    // A node's own publish can come back twice around a Redis resubscribe.
    OneSocket f(10s);
    publish(f.bus, sent(1));
    publish(f.bus, sent(2));
    publish(f.bus, sent(1));
    publish(f.bus, sent(3));
    publish(f.bus, sent(2));
    EXPECT_EQ(f.socket->frames(), (std::vector<std::string>{message(1), message(2), message(3)}));
}

TEST(RoomHub, AnOlderSeqThanTheFirstSeenIsFetchedNotDropped) {
    // A fresh hub (first socket of the room on this node) sees 2 before 1: 1 was never
    // delivered here and cannot go in order any more, so the sockets are told to fetch it.
    OneSocket f(10s);
    publish(f.bus, sent(2));
    publish(f.bus, sent(1));
    publish(f.bus, sent(3));
    publish(f.bus, sent(1));  // once told, not again
    EXPECT_EQ(f.socket->frames(), (std::vector<std::string>{message(2), resync(0), message(3)}));
}

TEST(RoomHub, AFreshRoomThatKnowsItsLastSeqKeepsOrderFromTheFirstFrame) {
    // The socket's join confirmed the room with last_seq 0 (chat_socket's confirm): 2 then 1
    // go out as 1, 2 — the client above sees them in order, and resyncs for nothing.
    OneSocket f(10s);
    f.hub.seen_up_to("t", 1, 0);
    publish(f.bus, sent(2));
    publish(f.bus, sent(1));
    EXPECT_EQ(f.socket->frames(), (std::vector<std::string>{message(1), message(2)}));
    f.hub.seen_up_to("t", 1, 40);  // later answers change nothing
    publish(f.bus, sent(3));
    EXPECT_EQ(f.socket->frames(), (std::vector<std::string>{message(1), message(2), message(3)}));
}

TEST(RoomHub, AFreshRoomFetchesWhatCommittedBeforeItsLastSeq) {
    // Last seq 5 when asked; 5's publish arrives after: below the hub's order, so the sockets
    // fetch it by seq (without the base the hub would have taken 5 as its first and sent it).
    OneSocket f(10s);
    f.hub.seen_up_to("t", 1, 5);
    publish(f.bus, sent(5));
    publish(f.bus, sent(6));
    EXPECT_EQ(f.socket->frames(), (std::vector<std::string>{resync(4), message(6)}));
}

/// An in-process bus whose subscribers can be told of a gap, as the Redis bus does after it
/// reconnects.
class GappyBus final : public bus::Bus {
  public:
    using Bus::subscribe;
    void publish(const std::string& channel, bus::Payload payload) override {
        inner_.publish(channel, std::move(payload));
    }
    bus::Subscription subscribe(const std::string& channel, bus::Handler handler,
                                bus::GapHandler on_gap) override {
        gaps_.push_back(std::move(on_gap));
        return inner_.subscribe(channel, std::move(handler));
    }
    void gap() {
        for (auto& g : gaps_) g();
    }

  private:
    bus::InprocBus inner_;
    std::vector<bus::GapHandler> gaps_;
};

TEST(RoomHub, ABusGapTellsTheRoomsSocketsToResync) {
    Time time;
    GappyBus bus;
    RoomHub hub(bus, time.timers, time.clock, 10s);
    auto a = std::make_shared<FakeSocket>(1), b = std::make_shared<FakeSocket>(2);
    hub.join("t", 1, 7, a);
    bus.gap();  // nothing delivered yet: after_seq 0, the client knows its own
    publish(bus, sent(4));
    hub.join("t", 1, 8, b);
    bus.gap();
    EXPECT_EQ(a->frames(), (std::vector<std::string>{resync(0), message(4), resync(4)}));
    EXPECT_EQ(b->frames(), std::vector<std::string>{resync(4)});
}

TEST(RoomHub, AYoungGapIsNotFlushedByAnOlderGapsTimer) {
    // Found by msg_loadgen's oracle: the timer armed for a gap that then filled fired and
    // flushed a gap that had opened only moments before, delivering seq n+1 before n.
    OneSocket f(300ms);
    publish(f.bus, sent(1));
    publish(f.bus, sent(3));  // gap at 2: the timer is armed
    f.time.timers.advance(200ms);
    publish(f.bus, sent(2));       // filled
    publish(f.bus, sent(5));       // a new gap at 4, 100 ms before the old timer fires
    f.time.timers.advance(150ms);  // the old timer has fired; the new gap is only 150 ms old
    EXPECT_EQ(f.socket->frames(), (std::vector<std::string>{message(1), message(2), message(3)}));
    EXPECT_EQ(f.time.timers.pending(), 1u);  // re-armed for the young gap's remaining 200 ms
    publish(f.bus, sent(4));                 // arrives in time
    f.time.timers.advance(400ms);
    EXPECT_EQ(f.socket->frames(), (std::vector<std::string>{message(1), message(2), message(3),
                                                            message(4), message(5)}));
}

TEST(RoomEvent, RoundTripsOnTheWireAndRefusesGarbage) {
    const auto frame = std::make_shared<const std::string>(message(42));
    for (const RoomEvent& e : {RoomEvent{RoomEvent::Kind::message, 1, 42, 0, frame},
                               RoomEvent{RoomEvent::Kind::signal, 1, 0, 20, frame},
                               RoomEvent{RoomEvent::Kind::removal, 1, 0, 7, frame},
                               RoomEvent{RoomEvent::Kind::other, 1, 0, 0, frame}}) {
        auto back = decode(1, *encode(e));
        ASSERT_TRUE(back);
        EXPECT_EQ(back->kind, e.kind);
        EXPECT_EQ(back->seq, e.seq);
        EXPECT_EQ(back->user_id, e.user_id);
        EXPECT_EQ(*back->frame, *frame);  // the frame's bytes, unparsed
    }
    for (std::string bad : {"", "{\"type\":\"message\"}", "m\n{}", "m1\n{}", "m1,\n{}", "q1,0\n{}",
                            "m0,0\n{}", "m-3,0\n{}", "m1,0x\n{}"}) {
        EXPECT_FALSE(decode(1, bad)) << bad;
    }
}

TEST(RoomHub, RemovalFrameGoesOutThenTheUserLeaves) {
    Time time;
    bus::InprocBus bus;
    RoomHub hub(bus, time.timers, time.clock);
    auto alice = std::make_shared<FakeSocket>(1), bob = std::make_shared<FakeSocket>(2);
    auto bob_evictions = std::make_shared<Evictions>(false);
    hub.join("t", 1, 10, alice);
    hub.join("t", 1, 20, bob, bob_evictions);
    const auto removal = removal_event(1, 20, 10);
    publish(bus, removal);
    publish(bus, sent(1));
    EXPECT_EQ(alice->frames(), (std::vector<std::string>{*removal.frame, message(1)}));
    EXPECT_EQ(bob->frames(), std::vector<std::string>{*removal.frame});
    EXPECT_EQ(bob_evictions->take(), std::vector<std::int64_t>{1});
}

TEST(RoomHub, TargetedSignalsReachOnlyTheTarget) {
    Time time;
    bus::InprocBus bus;
    RoomHub hub(bus, time.timers, time.clock);
    auto alice = std::make_shared<FakeSocket>(1), bob = std::make_shared<FakeSocket>(2);
    hub.join("t", 1, 10, alice);
    hub.join("t", 1, 20, bob);
    const std::string offer =
        R"({"type":"signal_webrtc_offer","room_id":1,"user_id":10,"target_id":20,"payload":{}})";
    publish(bus, {RoomEvent::Kind::signal, 1, 0, 20, std::make_shared<const std::string>(offer)});
    EXPECT_TRUE(alice->frames().empty());
    EXPECT_EQ(bob->frames(), std::vector<std::string>{offer});
    hub.leave("t", 1, 2);
    hub.leave("t", 1, 1);
    EXPECT_EQ(hub.rooms(), 0u);  // the node unsubscribed with its last socket
    EXPECT_EQ(bus.channels(), 0u);
}

}  // namespace
}  // namespace msg::chat
