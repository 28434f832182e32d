#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "bus/bus.hpp"
#include "chat/room_event.hpp"
#include "core/clock.hpp"
#include "core/timers.hpp"
#include "core/ws.hpp"

namespace msg::chat {

/// The rooms a hub took one socket out of because its user was removed from them; the socket's
/// session drains it on its own thread before handling a frame. A socket of one room only
/// (`/ws?room_id=`) is closed instead (4403). Thread-safe.
class Evictions {
  public:
    explicit Evictions(bool close_socket) : close_socket_(close_socket) {}
    void evicted(std::int64_t room_id, core::WsConnection& socket);
    std::vector<std::int64_t> take();

  private:
    const bool close_socket_;
    std::mutex mutex_;
    std::vector<std::int64_t> rooms_;
};

inline constexpr unsigned short kCloseRemovedFromRoom = 4403;

/// This node's room fan-out (ARCHITECTURE §7): one bus subscription per room that has local
/// sockets (taken with the first, dropped with the last), delivering each event's frame —
/// serialized once, shared — to the room's local sockets. Events arrive typed (room_event.hpp):
/// the hub never parses a frame.
///
/// Message frames leave in seq order, each seq once. Sends commit in seq order (the room row
/// lock) but are published after commit from any thread or node, so two can arrive swapped.
/// The hub holds a frame that arrives early until the missing seqs come; if a gap stays open
/// for `gap_wait` (a publish was really lost: a node died between commit and publish) it tells
/// the room's sockets `resync_required` (after_seq: the last seq delivered) and delivers what
/// it holds; clients fill the gap with `resume`. The same frame goes out when the bus reports
/// that it may have missed frames (Redis reconnected). Under load a publish can trail its
/// successor by tens of milliseconds, so the wait is generous.
///
/// Locking: each room has its own mutex, and a delivery takes only that one (the subscription
/// holds the room itself, not a key into the table), so deliveries to different rooms never
/// wait on each other; the room table's mutex is taken by join and leave alone (table, then
/// room).
class RoomHub {
  public:
    /// The gap wait is measured on `clock` and timed by `timers` (a test drives both).
    RoomHub(bus::Bus& bus, core::Timers& timers, const core::Clock& clock,
            std::chrono::milliseconds gap_wait = std::chrono::milliseconds(1000))
        : bus_(bus), timers_(timers), clock_(clock), gap_wait_(gap_wait) {}

    void join(const std::string& tenant_id, std::int64_t room_id, std::int64_t user_id,
              const std::shared_ptr<core::WsConnection>& socket,
              std::shared_ptr<Evictions> evictions = nullptr);
    void leave(const std::string& tenant_id, std::int64_t room_id, std::uint64_t socket_id);
    /// The room's last committed seq, read after a socket joined it: a room that has seen no
    /// message yet takes `last_seq + 1` as the next, so its first live frames wait for each
    /// other in seq order like any later ones (without it the first frame to arrive set the
    /// order: seq 2 delivered, then seq 1 only as a resync below what the client had seen —
    /// found by the Redis-outage oracle test). Later calls change nothing.
    void seen_up_to(const std::string& tenant_id, std::int64_t room_id, std::int64_t last_seq);

    std::size_t rooms() const;

  private:
    struct Member {
        std::uint64_t socket_id;
        std::int64_t user_id;
        std::weak_ptr<core::WsConnection> socket;
        std::shared_ptr<Evictions> evictions;  // told when a `member.removed` takes it out
    };
    struct Room {
        explicit Room(std::int64_t id) : room_id(id) {}
        const std::int64_t room_id;
        std::mutex mutex;   // everything below
        bool gone = false;  // dropped from the table: late deliveries do nothing
        std::vector<Member> members;
        std::int64_t next_seq = 0;                  // 0: nothing seen yet
        std::int64_t first_seq = 0;                 // the lowest seq seen (resynced below it)
        std::map<std::int64_t, core::Frame> early;  // arrived before next_seq
        // When the hub first saw next_seq missing (a later seq arrived without it). The gap
        // is flushed only once it has been open for gap_wait, whenever the timer fires.
        core::Clock::steady_point gap_since;
        bool flush_armed = false;
    };
    struct Entry {
        std::shared_ptr<Room> room;
        bus::Subscription subscription;
    };
    using Evicted =
        std::vector<std::pair<std::shared_ptr<core::WsConnection>, std::shared_ptr<Evictions>>>;

    void deliver(const std::shared_ptr<Room>& room, const bus::Payload& payload);
    /// The bus may have missed frames of the room (it reconnected): its sockets resync.
    void lost(const std::shared_ptr<Room>& room);
    // The rest run with the room's mutex held, so frames enter every socket's queue in the
    // order the hub decided.
    void on_message(const std::shared_ptr<Room>& room, std::int64_t seq, const core::Frame& frame);
    static void evict(Room& room, std::int64_t user_id, Evicted& out);
    static void fan_out(const Room& room, const core::Frame& frame, std::int64_t only_user = 0);
    /// Delivers the early frames that are next in order; a gap left behind starts its wait.
    void release_in_order(Room& room);
    void arm_gap_flush(const std::shared_ptr<Room>& room, core::Timers::Duration wait);
    void flush_gap(const std::shared_ptr<Room>& room);

    bus::Bus& bus_;
    core::Timers& timers_;
    const core::Clock& clock_;
    std::chrono::milliseconds gap_wait_;
    mutable std::mutex table_mutex_;
    std::unordered_map<std::string, Entry> rooms_;  // by channel name
};

}  // namespace msg::chat
