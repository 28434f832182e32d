#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "bus/bus.hpp"
#include "core/ws.hpp"

namespace msg::chat {

struct Message;

/// What a room's bus channel carries: the one serialized frame the room's sockets get
/// (room_frame()), and beside it what the hub routes by, so that no node parses the frame.
/// Built in one place per kind (the functions below).
struct RoomEvent {
    enum class Kind : char {
        message = 'm',  // ordered by seq, each seq once
        removal = 'x',  // `member.removed`: the frame goes out, then `user_id` leaves the room
        signal = 's',   // WebRTC signalling: to `user_id`'s sockets only (0: the whole room)
        other = 'o',    // read watermarks, typing: to the whole room as they come
    };
    Kind kind = Kind::other;
    std::int64_t room_id = 0;
    std::int64_t seq = 0;
    std::int64_t user_id = 0;
    core::Frame frame;
};

RoomEvent message_event(const Message& m);
RoomEvent read_event(std::int64_t room_id, std::int64_t reader_id, std::int64_t message_id,
                     std::int64_t seq);
RoomEvent removal_event(std::int64_t room_id, std::int64_t removed_id, std::int64_t by_id);
/// `signal_webrtc_*` (to `target`, or the room) and any other type — `typing`,
/// `file.thumbnail_ready` — to the whole room, from `sender_id`.
RoomEvent relay_event(std::string_view type, std::int64_t room_id, std::int64_t sender_id,
                      std::optional<std::int64_t> target, const boost::json::value& payload);

/// `{"type":"resync_required","room_id","payload":{"after_seq"}}`: the client fetches the room
/// past `after_seq` (resume, or GET messages?after_seq=). Sent by the hub, not over the bus.
core::Frame resync_frame(std::int64_t room_id, std::int64_t after_seq);

/// The wire form on the bus: a header line `<kind><seq>,<user_id>\n`, then the frame's bytes.
bus::Payload encode(const RoomEvent& event);
/// nullopt for a payload that is not an encoded event (nothing of ours publishes one).
std::optional<RoomEvent> decode(std::int64_t room_id, std::string_view payload);

}  // namespace msg::chat
