#include "chat/room_event.hpp"

#include <boost/json/object.hpp>

#include <charconv>

#include "chat/model.hpp"

namespace msg::chat {

namespace json = boost::json;

RoomEvent message_event(const Message& m) {
    return {RoomEvent::Kind::message, m.room_id, m.seq, 0,
            room_frame("message", m.room_id, m.sender_id, std::nullopt, to_json(m))};
}

RoomEvent read_event(std::int64_t room_id, std::int64_t reader_id, std::int64_t message_id,
                     std::int64_t seq) {
    const json::object payload{
        {"room_id", room_id}, {"user_id", reader_id}, {"message_id", message_id}, {"seq", seq}};
    return {RoomEvent::Kind::other, room_id, 0, 0,
            room_frame("read", room_id, reader_id, std::nullopt, payload)};
}

RoomEvent removal_event(std::int64_t room_id, std::int64_t removed_id, std::int64_t by_id) {
    const json::object payload{
        {"room_id", room_id}, {"user_id", removed_id}, {"removed_by", by_id}};
    return {RoomEvent::Kind::removal, room_id, 0, removed_id,
            room_frame("member.removed", room_id, removed_id, std::nullopt, payload)};
}

RoomEvent relay_event(std::string_view type, std::int64_t room_id, std::int64_t sender_id,
                      std::optional<std::int64_t> target, const json::value& payload) {
    const bool signal = type.starts_with("signal_webrtc_");
    return {signal ? RoomEvent::Kind::signal : RoomEvent::Kind::other, room_id, 0,
            signal && target ? *target : 0, room_frame(type, room_id, sender_id, target, payload)};
}

core::Frame resync_frame(std::int64_t room_id, std::int64_t after_seq) {
    return core::json_frame(json::object{{"type", "resync_required"},
                                         {"room_id", room_id},
                                         {"payload", json::object{{"after_seq", after_seq}}}});
}

bus::Payload encode(const RoomEvent& e) {
    std::string out;
    out.reserve(e.frame->size() + 32);
    out += static_cast<char>(e.kind);
    out += std::to_string(e.seq);
    out += ',';
    out += std::to_string(e.user_id);
    out += '\n';
    out += *e.frame;
    return std::make_shared<const std::string>(std::move(out));
}

std::optional<RoomEvent> decode(std::int64_t room_id, std::string_view p) {
    const auto nl = p.find('\n');
    if (p.empty() || nl == std::string_view::npos) return std::nullopt;
    RoomEvent e;
    e.room_id = room_id;
    switch (p[0]) {
        case 'm':
            e.kind = RoomEvent::Kind::message;
            break;
        case 'x':
            e.kind = RoomEvent::Kind::removal;
            break;
        case 's':
            e.kind = RoomEvent::Kind::signal;
            break;
        case 'o':
            e.kind = RoomEvent::Kind::other;
            break;
        default:
            return std::nullopt;
    }
    const char* it = p.data() + 1;
    const char* end = p.data() + nl;
    auto [after_seq, ec1] = std::from_chars(it, end, e.seq);
    if (ec1 != std::errc() || after_seq == end || *after_seq != ',') return std::nullopt;
    auto [after_user, ec2] = std::from_chars(after_seq + 1, end, e.user_id);
    if (ec2 != std::errc() || after_user != end) return std::nullopt;
    if (e.kind == RoomEvent::Kind::message && e.seq <= 0) return std::nullopt;
    e.frame = std::make_shared<const std::string>(p.substr(nl + 1));
    return e;
}

}  // namespace msg::chat
