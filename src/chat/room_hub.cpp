#include "chat/room_hub.hpp"

#include <utility>

namespace msg::chat {

void Evictions::evicted(std::int64_t room_id, core::WsConnection& socket) {
    if (close_socket_) {
        socket.close(kCloseRemovedFromRoom, "removed from room");
        return;
    }
    std::lock_guard lock(mutex_);
    rooms_.push_back(room_id);
}

std::vector<std::int64_t> Evictions::take() {
    std::lock_guard lock(mutex_);
    return std::exchange(rooms_, {});
}

void RoomHub::join(const std::string& tenant_id, std::int64_t room_id, std::int64_t user_id,
                   const std::shared_ptr<core::WsConnection>& socket,
                   std::shared_ptr<Evictions> evictions) {
    const std::string channel = bus::room_channel(tenant_id, room_id);
    std::lock_guard table(table_mutex_);
    auto [it, created] = rooms_.try_emplace(channel);
    Entry& entry = it->second;
    if (created) {
        entry.room = std::make_shared<Room>(room_id);
        std::weak_ptr<Room> weak = entry.room;
        entry.subscription = bus_.subscribe(
            channel,
            [this, weak](const bus::Payload& p) {
                if (auto room = weak.lock()) deliver(room, p);
            },
            [this, weak] {
                if (auto room = weak.lock()) lost(room);
            });
    }
    std::lock_guard lock(entry.room->mutex);
    for (const auto& m : entry.room->members) {
        if (m.socket_id == socket->id()) return;
    }
    entry.room->members.push_back({socket->id(), user_id, socket, std::move(evictions)});
}

void RoomHub::leave(const std::string& tenant_id, std::int64_t room_id, std::uint64_t socket_id) {
    const std::string channel = bus::room_channel(tenant_id, room_id);
    bus::Subscription ending;
    {
        std::lock_guard table(table_mutex_);
        auto it = rooms_.find(channel);
        if (it == rooms_.end()) return;
        Room& room = *it->second.room;
        {
            std::lock_guard lock(room.mutex);
            std::erase_if(room.members, [&](const Member& m) { return m.socket_id == socket_id; });
            if (!room.members.empty()) return;
            room.gone = true;
        }
        ending = std::move(it->second.subscription);
        rooms_.erase(it);
    }
    // The unsubscribe runs outside the hub's locks (the bus takes its own).
}

void RoomHub::seen_up_to(const std::string& tenant_id, std::int64_t room_id,
                         std::int64_t last_seq) {
    std::shared_ptr<Room> room;
    {
        std::lock_guard table(table_mutex_);
        auto it = rooms_.find(bus::room_channel(tenant_id, room_id));
        if (it == rooms_.end()) return;
        room = it->second.room;
    }
    std::lock_guard lock(room->mutex);
    if (room->next_seq != 0 || !room->early.empty()) return;  // it has its order already
    room->next_seq = room->first_seq = last_seq + 1;
}

std::size_t RoomHub::rooms() const {
    std::lock_guard table(table_mutex_);
    return rooms_.size();
}

void RoomHub::fan_out(const Room& room, const core::Frame& frame, std::int64_t only_user) {
    for (const auto& m : room.members) {
        if (only_user != 0 && m.user_id != only_user) continue;
        if (auto s = m.socket.lock()) s->send(frame);  // posts; never blocks
    }
}

void RoomHub::lost(const std::shared_ptr<Room>& room) {
    std::lock_guard lock(room->mutex);
    if (room->gone) return;
    // What the bus missed is in PostgreSQL: every socket of the room fetches past the last seq
    // this hub delivered (0: none yet, the client knows its own).
    const std::int64_t after = room->next_seq > 0 ? room->next_seq - 1 : 0;
    fan_out(*room, resync_frame(room->room_id, after));
}

void RoomHub::deliver(const std::shared_ptr<Room>& room, const bus::Payload& payload) {
    auto event = decode(room->room_id, *payload);
    if (!event) return;  // not ours: nothing on our channels publishes it
    Evicted evicted;
    {
        std::lock_guard lock(room->mutex);
        if (room->gone) return;
        switch (event->kind) {
            case RoomEvent::Kind::message:
                on_message(room, event->seq, event->frame);
                return;
            case RoomEvent::Kind::signal:
                fan_out(*room, event->frame, event->user_id);
                return;
            case RoomEvent::Kind::other:
                fan_out(*room, event->frame);
                return;
            case RoomEvent::Kind::removal:
                // The frame goes to the room (the removed user included), then that user's
                // sockets leave it; the evictions are told outside the lock.
                fan_out(*room, event->frame);
                evict(*room, event->user_id, evicted);
                break;
        }
    }
    for (auto& [socket, evictions] : evicted) {
        if (evictions) evictions->evicted(room->room_id, *socket);
    }
}

void RoomHub::on_message(const std::shared_ptr<Room>& room, std::int64_t seq,
                         const core::Frame& frame) {
    Room& r = *room;
    if (r.next_seq == 0) r.next_seq = r.first_seq = seq;  // the first message this hub sees
    if (seq < r.first_seq) {
        // Older than anything this hub has delivered (its publish trailed the first one seen):
        // never delivered here, and too late to go in order. The sockets fetch it by seq.
        r.first_seq = seq;
        fan_out(r, resync_frame(r.room_id, seq - 1));
        return;
    }
    if (seq < r.next_seq || r.early.contains(seq)) {
        // Delivered already (a node's own publish can come back twice around a resubscribe),
        // or late past a flushed gap, which the sockets were told to fetch: either way the
        // client has it or will have it by seq, and order holds.
        return;
    }
    const bool was_waiting = !r.early.empty();
    r.early.emplace(seq, frame);
    if (!was_waiting && seq != r.next_seq) r.gap_since = clock_.steady_now();
    release_in_order(r);
    if (!r.early.empty()) arm_gap_flush(room, gap_wait_);
}

void RoomHub::release_in_order(Room& room) {
    const bool had_gap = !room.early.empty() && room.early.begin()->first != room.next_seq;
    bool released = false;
    for (auto it = room.early.begin(); it != room.early.end() && it->first == room.next_seq;
         it = room.early.erase(it)) {
        fan_out(room, it->second);
        ++room.next_seq;
        released = true;
    }
    // A new gap (the head of `early` is not next_seq) starts waiting now; an old one keeps
    // its start.
    if (!room.early.empty() && (released || !had_gap)) {
        room.gap_since = clock_.steady_now();
    }
}

void RoomHub::arm_gap_flush(const std::shared_ptr<Room>& room, core::Timers::Duration wait) {
    if (room->flush_armed) return;
    room->flush_armed = true;
    std::weak_ptr<Room> weak = room;
    timers_.after(wait, [this, weak] {
        if (auto r = weak.lock()) flush_gap(r);
    });
}

void RoomHub::flush_gap(const std::shared_ptr<Room>& room) {
    std::lock_guard lock(room->mutex);
    Room& r = *room;
    r.flush_armed = false;
    if (r.gone || r.early.empty()) return;
    const auto open_for = clock_.steady_now() - r.gap_since;
    if (open_for < gap_wait_) {
        // The gap this timer was armed for filled; the one open now is younger.
        arm_gap_flush(room, gap_wait_ - open_for);
        return;
    }
    // The gap did not fill in time (a publish was lost): the sockets are told to fetch it by
    // seq, then get what we hold, in order, past the gap.
    fan_out(r, resync_frame(r.room_id, r.next_seq - 1));
    r.next_seq = r.early.begin()->first;
    release_in_order(r);
    if (!r.early.empty()) arm_gap_flush(room, gap_wait_);
}

void RoomHub::evict(Room& room, std::int64_t user_id, Evicted& out) {
    // The room stays subscribed even if it is now empty here: the sessions leave it when they
    // drain their evictions (or close), which also ends the subscription.
    std::erase_if(room.members, [&](const Member& m) {
        if (m.user_id != user_id) return false;
        if (auto s = m.socket.lock()) out.emplace_back(std::move(s), m.evictions);
        return true;
    });
}

}  // namespace msg::chat
