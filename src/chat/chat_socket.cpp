// The chat socket protocol (/ws): joins, frames, resume and relays (docs/API.md).
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <set>

#include "chat/handlers.hpp"
#include "chat/realtime.hpp"
#include "chat/service.hpp"
#include "core/json.hpp"

namespace msg::chat {

namespace json = boost::json;

namespace {

core::Frame error_frame(std::string_view message) {
    return core::json_frame(json::object{{"type", "error"}, {"error", message}});
}

/// One chat socket: the rooms it listens to and the frames it accepts.
class ChatSocket final : public core::WsSession {
  public:
    ChatSocket(SocketBackend& service, RoomHub& hub, core::PresenceObserver* presence,
               core::Principal caller, std::shared_ptr<core::WsConnection> socket,
               std::optional<std::int64_t> single, std::vector<std::int64_t> rooms)
        : service_(service),
          hub_(hub),
          presence_(presence),
          caller_(std::move(caller)),
          socket_(std::move(socket)),
          single_(single),
          initial_(std::move(rooms)),
          evictions_(std::make_shared<Evictions>(single.has_value())) {}

    core::Task<void> on_open() override {
        std::vector<std::int64_t> joined;
        for (auto room : initial_) {
            if (join(room)) joined.push_back(room);
        }
        initial_.clear();
        co_await confirm(std::move(joined));
        if (presence_) presence_->socket_opened(caller_.tenant_id, caller_.user_id);
    }

    void on_close() override {
        for (auto room : rooms_) hub_.leave(caller_.tenant_id, room, socket_->id());
        rooms_.clear();
        if (presence_) presence_->socket_closed(caller_.tenant_id, caller_.user_id);
    }

    core::Task<void> on_text(std::string text) override {
        // Rooms the user was removed from since the last frame are gone before this one counts.
        for (auto room : evictions_->take()) {
            if (rooms_.erase(room) > 0) hub_.leave(caller_.tenant_id, room, socket_->id());
        }
        auto parsed = core::parse_object(text);
        if (!parsed) {
            socket_->send(error_frame("invalid json"));
            co_return;
        }
        const json::object& frame = *parsed;
        auto type_it = frame.find("type");
        if (type_it == frame.end() || !type_it->value().is_string()) {
            socket_->send(error_frame("type is required"));
            co_return;
        }
        const std::string type(type_it->value().get_string());
        if (type == "ping") {
            socket_->send(core::json_frame(json::object{{"type", "pong"}}));
        } else if (type == "message") {
            co_await on_message(frame);
        } else if (type == "read") {
            co_await on_read(frame);
        } else if (type == "subscribe") {
            co_await on_subscribe(frame);
        } else if (type == "unsubscribe") {
            on_unsubscribe(frame);
        } else if (type == "resume") {
            co_await on_resume(frame);
        } else if (type == "typing" || type == "webrtc_offer" || type == "webrtc_answer" ||
                   type == "webrtc_ice") {
            relay(type, frame);
        } else {
            socket_->send(error_frame("unsupported type"));
        }
    }

  private:
    bool join(std::int64_t room) {
        if (rooms_.size() >= kMaxRoomsPerSocket || !rooms_.insert(room).second) return false;
        hub_.join(caller_.tenant_id, room, caller_.user_id, socket_, evictions_);
        return true;
    }

    /// Rooms joined on a membership answer that may be stale by now (a removal committed
    /// between that query and the join found no socket to evict): asked again now that the
    /// hub holds the socket — a removal from here on evicts it — and what is no longer ours
    /// is left (a single-room socket is closed 4403). One query for all of them.
    core::Task<void> confirm(std::vector<std::int64_t> joined) {
        if (joined.empty()) co_return;
        std::optional<std::vector<MemberRoom>> still;
        try {
            auto r = co_await service_.member_rooms(caller_, joined);
            if (r) still = std::move(*r);
        } catch (const std::exception&) {
            // An outage: keep them (every send, read and resume checks membership again).
        }
        if (!still) co_return;
        std::set<std::int64_t> ours;
        for (const auto& m : *still) {
            ours.insert(m.room_id);
            hub_.seen_up_to(caller_.tenant_id, m.room_id, m.last_seq);
        }
        for (auto room : joined) {
            if (ours.contains(room)) continue;
            if (rooms_.erase(room) > 0) hub_.leave(caller_.tenant_id, room, socket_->id());
            if (single_) socket_->close(kCloseRemovedFromRoom, "removed from room");
        }
    }

    /// The room a frame is about: the socket's room on /ws?room_id=, else the frame's
    /// `room_id` (top level or in the payload), which must be one this socket listens to.
    core::Result<std::int64_t> room_of(const json::object& frame) const {
        if (single_) return *single_;
        const json::value* v = frame.if_contains("room_id");
        if ((v == nullptr || v->is_null()) && frame.contains("payload") &&
            frame.at("payload").is_object()) {
            v = frame.at("payload").get_object().if_contains("room_id");
        }
        if (v == nullptr || v->is_null()) return core::invalid("room_id required");
        auto id = core::parse_id(*v);
        if (!id) return core::invalid("room_id must be an id");
        if (!rooms_.contains(*id)) return core::forbidden("room access denied");
        return *id;
    }

    static const json::object* payload_of(const json::object& frame) {
        auto* p = frame.if_contains("payload");
        return p != nullptr && p->is_object() ? &p->get_object() : nullptr;
    }

    core::Task<void> on_message(const json::object& frame) {
        auto room = room_of(frame);
        const json::object* payload = payload_of(frame);
        if (!room || payload == nullptr) {
            socket_->send(error_frame(room ? "invalid message payload" : room.error().message));
            co_return;
        }
        auto in = read_new_message(*payload);
        if (!in) {
            socket_->send(error_frame(
                in.error().message == "body is required" ? "body required" : in.error().message));
            co_return;
        }
        std::optional<std::string> client_msg_id = in->client_msg_id;
        auto sent = co_await service_.send(caller_, *room, std::move(*in));
        if (!sent) {
            auto text = sent.error().message;
            socket_->send(error_frame(text == "body is required" ? "body required" : text));
            co_return;
        }
        json::object ack{{"type", "ack"}, {"room_id", *room}};
        ack["client_msg_id"] = client_msg_id ? json::value(*client_msg_id) : json::value(nullptr);
        ack["duplicate"] = sent->duplicate;
        ack["payload"] = to_json(sent->message);
        socket_->send(core::json_frame(ack));
    }

    core::Task<void> on_read(const json::object& frame) {
        auto room = room_of(frame);
        if (!room) {
            socket_->send(error_frame(room.error().message));
            co_return;
        }
        const json::object* payload = payload_of(frame);
        const json::value* id = payload ? payload->if_contains("message_id") : nullptr;
        if (id == nullptr) id = frame.if_contains("message_id");
        auto message_id = id ? core::parse_id(*id) : std::nullopt;
        if (!message_id) {
            socket_->send(error_frame("message_id is required"));
            co_return;
        }
        auto r = co_await service_.mark_read(caller_, *room, *message_id);
        if (!r) socket_->send(error_frame(r.error().message));
    }

    static std::vector<std::int64_t> ids_in(const json::object& frame, std::string_view key) {
        const json::value* v = frame.if_contains(key);
        if ((v == nullptr || !v->is_array()) && payload_of(frame)) {
            v = payload_of(frame)->if_contains(key);
        }
        std::vector<std::int64_t> out;
        if (v == nullptr || !v->is_array()) return out;
        for (const auto& item : v->get_array()) {
            if (auto id = core::parse_id(item)) out.push_back(*id);
            if (out.size() >= kMaxRoomsPerSocket) break;
        }
        return out;
    }

    core::Task<void> on_subscribe(const json::object& frame) {
        if (single_) {
            socket_->send(error_frame("subscribe needs a socket opened without room_id"));
            co_return;
        }
        // One query for the whole frame (up to kMaxRoomsPerSocket rooms), not one per room.
        const auto wanted = ids_in(frame, "room_ids");
        auto member_of = co_await service_.member_rooms(caller_, wanted);
        if (!member_of) {
            socket_->send(error_frame(member_of.error().message));
            co_return;
        }
        std::set<std::int64_t> allowed;
        for (const auto& m : *member_of) allowed.insert(m.room_id);
        std::vector<std::int64_t> joined;
        for (auto room : wanted) {
            if (!allowed.contains(room)) {
                socket_->send(core::json_frame(json::object{
                    {"type", "error"}, {"error", "room access denied"}, {"room_id", room}}));
                continue;
            }
            if (join(room)) joined.push_back(room);
        }
        co_await confirm(std::move(joined));
        json::array now;
        for (auto r : rooms_) now.emplace_back(r);
        socket_->send(
            core::json_frame(json::object{{"type", "subscribed"}, {"room_ids", std::move(now)}}));
    }

    void on_unsubscribe(const json::object& frame) {
        if (single_) {
            socket_->send(error_frame("unsubscribe needs a socket opened without room_id"));
            return;
        }
        for (auto room : ids_in(frame, "room_ids")) {
            if (rooms_.erase(room) > 0) hub_.leave(caller_.tenant_id, room, socket_->id());
        }
    }

    /// `{"type":"resume","payload":{"rooms":{"<room_id>": <last seq seen>}}}`: the missed
    /// messages of each room, oldest first, as `message` frames, then `resumed` (last_seq: the
    /// last one sent; `more` when the room's page (kMaxResumeMessages) or the frame's rows
    /// (kMaxResumeRows) ran out: the client resumes again from there). One query in all.
    core::Task<void> on_resume(const json::object& frame) {
        const json::value* rooms = frame.if_contains("rooms");
        if ((rooms == nullptr || !rooms->is_object()) && payload_of(frame)) {
            rooms = payload_of(frame)->if_contains("rooms");
        }
        if (rooms == nullptr || !rooms->is_object()) {
            socket_->send(error_frame("rooms is required"));
            co_return;
        }
        // Checked here first (ids, seqs, rooms of this socket), then one statement for all of
        // them that also checks membership again (ChatService::resume).
        std::vector<std::pair<std::int64_t, std::int64_t>> wanted;
        std::set<std::int64_t> seen;
        std::size_t handled = 0;
        for (const auto& [key, value] : rooms->get_object()) {
            if (++handled > kMaxRoomsPerSocket) break;
            auto room = core::parse_id(std::string_view(key));
            const std::int64_t last = value.is_int64() ? value.get_int64() : -1;
            if (!room || last < 0 || !rooms_.contains(*room) || !seen.insert(*room).second) {
                socket_->send(error_frame("room access denied"));
                continue;
            }
            wanted.emplace_back(*room, last);
        }
        if (wanted.empty()) co_return;
        auto resumed = co_await service_.resume(caller_, std::move(wanted),
                                                static_cast<int>(kMaxResumeMessages),
                                                static_cast<int>(kMaxResumeRows));
        if (!resumed) {
            socket_->send(error_frame(resumed.error().message));
            co_return;
        }
        for (const auto& room : *resumed) {
            if (room.denied) {
                socket_->send(error_frame("room access denied"));
                continue;
            }
            for (const auto& m : room.messages) socket_->send(message_event(m).frame);
            // Every resume of a room ends with one `resumed`: the end of what was missed (live
            // frames follow in order; a client that held live frames while resuming keeps
            // those past last_seq), or, with `more`, of one page: resume again from last_seq.
            socket_->send(core::json_frame(
                json::object{{"type", "resumed"},
                             {"room_id", room.room_id},
                             {"payload", {{"last_seq", room.last_seq}, {"more", room.more}}}}));
        }
    }

    void relay(const std::string& type, const json::object& frame) {
        auto room = room_of(frame);
        if (!room) {
            socket_->send(error_frame(room.error().message));
            return;
        }
        std::optional<std::int64_t> target;
        if (const json::value* t = frame.if_contains("target_id")) target = core::parse_id(*t);
        const std::string out_type = type == "typing" ? type : "signal_" + type;
        json::value payload = frame.contains("payload") ? frame.at("payload") : json::value();
        // Relays are fanned out to a whole room: bounded well below the frame limit.
        const std::size_t cap = type == "typing" ? kMaxTypingPayloadBytes : kMaxSignalPayloadBytes;
        if (json::serialize(payload).size() > cap) {
            socket_->send(error_frame("payload too large"));
            return;
        }
        service_.publish(caller_, relay_event(out_type, *room, caller_.user_id, target, payload));
    }

    SocketBackend& service_;
    RoomHub& hub_;
    core::PresenceObserver* presence_;
    core::Principal caller_;
    std::shared_ptr<core::WsConnection> socket_;
    std::optional<std::int64_t> single_;
    std::vector<std::int64_t> initial_;
    std::set<std::int64_t> rooms_;
    std::shared_ptr<Evictions> evictions_;
};

core::Task<core::Result<std::shared_ptr<core::WsSession>>> accept_chat_socket(
    ChatService* service, RoomHub* hub, core::PresenceObserver* presence,
    core::HttpRequest* request, std::shared_ptr<core::WsConnection> socket) {
    const core::Principal& caller = request->caller();
    std::optional<std::int64_t> single;
    std::vector<std::int64_t> rooms;
    if (auto room_param = request->query_param("room_id"); room_param && !room_param->empty()) {
        auto room = core::parse_id(*room_param);
        if (!room) co_return core::invalid("room_id must be an id");
        auto member = co_await service->require_member(caller, *room);
        if (!member) co_return member.error();
        single = *room;
        rooms.push_back(*room);
    } else {
        auto all = co_await service->unread_counts(caller);
        if (!all) co_return all.error();
        for (const auto& r : *all) {
            if (rooms.size() >= kMaxRoomsPerSocket) break;
            rooms.push_back(r.room_id);
        }
    }
    co_return make_chat_socket(*service, *hub, presence, caller, std::move(socket), single,
                               std::move(rooms));
}

}  // namespace

std::shared_ptr<core::WsSession> make_chat_socket(SocketBackend& backend, RoomHub& hub,
                                                  core::PresenceObserver* presence,
                                                  core::Principal caller,
                                                  std::shared_ptr<core::WsConnection> socket,
                                                  std::optional<std::int64_t> single,
                                                  std::vector<std::int64_t> rooms) {
    return std::make_shared<ChatSocket>(backend, hub, presence, std::move(caller),
                                        std::move(socket), single, std::move(rooms));
}

std::vector<core::WsRoute> ws_routes(ChatService& service, RoomHub& hub,
                                     core::PresenceObserver* presence) {
    return {core::WsRoute{
        "/ws", [s = &service, h = &hub, p = presence](core::HttpRequest& request,
                                                      std::shared_ptr<core::WsConnection> socket) {
            return accept_chat_socket(s, h, p, &request, std::move(socket));
        }}};
}

}  // namespace msg::chat
