// Client frames of the two sockets: the chat socket's protocol object (chat::make_chat_socket,
// the class behind /ws) over a backend that keeps membership in memory, a real RoomHub on an
// in-process bus and a recording socket; and session::answer_client_frame (/ws/session).
//
// Input: a first byte (single-room or multi-room socket, and its room), then pieces split at
// '\n'. A piece is a text frame, except `!x<d>` (the user is removed from room d, as
// DELETE /rooms/:id/members does it: membership goes, `member.removed` is published) and
// `!m<d>` (another member sends a message into room d).
//
// Invariants: the socket asks the backend about, publishes into, and receives room frames of
// rooms the user is a member of at that moment, never others (the rule of issue 12: a right
// taken away stops working at once); every frame it sends is a JSON object with a type; a
// removed single-room socket is closed 4403; relays stay within their payload caps.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <exception>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bus/bus.hpp"
#include "bus/inproc_bus.hpp"
#include "chat/model.hpp"
#include "chat/realtime.hpp"
#include "chat/room_event.hpp"
#include "chat/service.hpp"
#include "core/clock.hpp"
#include "core/json.hpp"
#include "core/timers.hpp"
#include "fuzz/fuzz.hpp"
#include "session/realtime.hpp"
#include "testing/fake_socket.hpp"

using namespace msg;
namespace json = boost::json;

namespace {

constexpr std::int64_t kUser = 7;
const std::string kTenant = "t1";

class MemoryBackend final : public chat::SocketBackend {
  public:
    MemoryBackend(bus::Bus& bus, std::set<std::int64_t>& members) : bus_(bus), members_(members) {}

    core::Task<core::Result<chat::SendMessage::Response>> send(const core::Principal& caller,
                                                               std::int64_t room_id,
                                                               chat::NewMessage in) override {
        FUZZ_CHECK(members_.contains(room_id));
        FUZZ_CHECK(in.body.size() <= chat::kMaxBodyBytes);
        chat::SendMessage::Response r;
        r.message = next_message(room_id, caller.user_id, std::move(in.body));
        r.message.client_msg_id = in.client_msg_id;
        bus_.publish(bus::room_channel(kTenant, room_id),
                     chat::encode(chat::message_event(r.message)));
        co_return r;
    }

    core::Task<core::Result<std::vector<chat::ResumedRoom>>> resume(
        const core::Principal&, std::vector<std::pair<std::int64_t, std::int64_t>> rooms,
        int per_room, int max_rows) override {
        FUZZ_CHECK(!rooms.empty() && rooms.size() <= chat::kMaxRoomsPerSocket);
        FUZZ_CHECK(per_room >= 1 && max_rows >= per_room);
        std::vector<chat::ResumedRoom> out;
        std::set<std::int64_t> distinct;
        for (const auto& [room_id, after] : rooms) {
            FUZZ_CHECK(distinct.insert(room_id).second && after >= 0);
            chat::ResumedRoom r;
            r.room_id = room_id;
            r.last_seq = after;
            FUZZ_CHECK(members_.contains(room_id));  // removals were drained before the frame
            for (std::int64_t seq = after + 1; seq <= seq_[room_id]; ++seq) {
                if (r.messages.size() == 3) {  // a small page: `more` paths get exercised
                    r.more = true;
                    break;
                }
                chat::Message m;
                m.tenant_id = kTenant;
                m.id = room_id * 1000 + seq;
                m.room_id = room_id;
                m.seq = seq;
                m.sender_id = 1;
                m.body = "old";
                m.meta_json = "{}";
                r.messages.push_back(m);
                r.last_seq = seq;
            }
            out.push_back(std::move(r));
        }
        co_return out;
    }

    core::Task<core::Result<chat::MarkRead::Response>> mark_read(const core::Principal&,
                                                                 std::int64_t room_id,
                                                                 std::int64_t message_id) override {
        FUZZ_CHECK(members_.contains(room_id));
        FUZZ_CHECK(message_id >= 1 && message_id <= core::kMaxId);
        if (message_id % 3 == 0) co_return core::not_found("message not found");
        co_return chat::MarkRead::Response{.seq = 1, .moved = true};
    }

    core::Task<core::Result<std::vector<chat::MemberRoom>>> member_rooms(
        const core::Principal&, std::vector<std::int64_t> room_ids) override {
        FUZZ_CHECK(room_ids.size() <= chat::kMaxRoomsPerSocket);
        std::vector<chat::MemberRoom> out;
        for (auto id : room_ids) {
            if (members_.contains(id)) out.push_back({id, seq_[id]});
        }
        co_return out;
    }

    void publish(const core::Principal&, const chat::RoomEvent& event) override {
        FUZZ_CHECK(members_.contains(event.room_id));
        FUZZ_CHECK(event.frame && event.frame->size() <= chat::kMaxSignalPayloadBytes + 512);
        bus_.publish(bus::room_channel(kTenant, event.room_id), chat::encode(event));
    }

    /// Another member's message into `room_id`, published as ChatService does.
    void foreign_message(std::int64_t room_id) {
        auto m = next_message(room_id, 1, "hello");
        bus_.publish(bus::room_channel(kTenant, room_id), chat::encode(chat::message_event(m)));
    }

  private:
    chat::Message next_message(std::int64_t room_id, std::int64_t sender, std::string body) {
        chat::Message m;
        m.tenant_id = kTenant;
        m.room_id = room_id;
        m.seq = ++seq_[room_id];
        m.id = room_id * 1000 + m.seq;
        m.sender_id = sender;
        m.body = std::move(body);
        m.meta_json = "{}";
        m.created_at = "2026-01-01T00:00:00Z";
        return m;
    }

    bus::Bus& bus_;
    std::set<std::int64_t>& members_;
    std::map<std::int64_t, std::int64_t> seq_;
};

void run(boost::asio::io_context& io, core::Task<void> task) {
    boost::asio::co_spawn(io, std::move(task), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    io.run();
    io.restart();
}

/// Frames the socket got since `seen`: each a JSON object with a string type; room frames
/// only for rooms the user is in.
void check_frames(testing::FakeSocket& socket, std::size_t& seen,
                  const std::set<std::int64_t>& members) {
    const auto frames = socket.frames();
    for (; seen < frames.size(); ++seen) {
        boost::system::error_code ec;
        const json::value v = json::parse(frames[seen], ec);
        FUZZ_CHECK(!ec && v.is_object());
        const json::object& o = v.get_object();
        FUZZ_CHECK(o.contains("type") && o.at("type").is_string());
        const std::string_view type = o.at("type").get_string();
        if (type == "message" || type == "typing" || type == "read" ||
            type.starts_with("signal_")) {
            FUZZ_CHECK(o.contains("room_id") && o.at("room_id").is_int64());
            FUZZ_CHECK(members.contains(o.at("room_id").get_int64()));
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

    // The session socket's frames first: a pong for a ping, nothing else.
    fuzz::for_each_piece(text, 32, [](std::string_view piece) {
        if (auto reply = session::answer_client_frame(piece)) {
            FUZZ_CHECK(**reply == R"({"type":"pong"})");
        }
    });

    std::set<std::int64_t> members{1, 2, 3, 4, 5};  // room 6 exists but is not the user's
    bus::InprocBus bus;
    core::ManualClock clock;
    core::ManualTimers timers(clock);
    boost::asio::io_context io;
    {
        chat::RoomHub hub(bus, timers, clock);
        MemoryBackend backend(bus, members);
        auto socket = std::make_shared<testing::FakeSocket>(1);
        std::optional<std::int64_t> single;
        std::vector<std::int64_t> rooms(members.begin(), members.end());
        if ((data[0] & 1) != 0) {
            single = 1 + (data[0] >> 1) % 5;  // the handshake has checked membership
            rooms = {*single};
        }
        core::Principal caller{.user_id = kUser, .tenant_id = kTenant, .role = "member"};
        auto session = chat::make_chat_socket(backend, hub, nullptr, caller, socket, single, rooms);
        run(io, session->on_open());
        std::size_t seen = 0;
        fuzz::for_each_piece(text, 24, [&](std::string_view piece) {
            if (socket->close_code() != 0) return;  // the transport reads no more
            if (piece.size() == 3 && piece[0] == '!' && piece[2] >= '1' && piece[2] <= '6') {
                const std::int64_t room = piece[2] - '0';
                if (piece[1] == 'x' && members.erase(room) > 0) {
                    bus.publish(bus::room_channel(kTenant, room),
                                chat::encode(chat::removal_event(room, kUser, 1)));
                    if (single == room)
                        FUZZ_CHECK(socket->close_code() == chat::kCloseRemovedFromRoom);
                } else if (piece[1] == 'm' && members.contains(room)) {
                    backend.foreign_message(room);
                }
                check_frames(*socket, seen, members);
                return;
            }
            run(io, session->on_text(std::string(piece)));
            check_frames(*socket, seen, members);
        });
        session->on_close();
        FUZZ_CHECK(hub.rooms() == 0);
    }
    return 0;
}
