#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "bus/bus.hpp"
#include "core/ws.hpp"

namespace msg::chat {

class ChatService;

/// This node's room fan-out (ARCHITECTURE §7): one bus subscription per room that has local
/// sockets (taken with the first, dropped with the last), delivering each frame — serialized
/// once, shared — to the room's local sockets. A `signal_webrtc_*` frame with a target goes to
/// the target user's sockets only.
class RoomHub {
  public:
    explicit RoomHub(bus::Bus& bus) : bus_(bus) {}

    void join(const std::string& tenant_id, std::int64_t room_id, std::int64_t user_id,
              const std::shared_ptr<core::WsConnection>& socket);
    void leave(const std::string& tenant_id, std::int64_t room_id, std::uint64_t socket_id);

    std::size_t rooms() const;

  private:
    struct Member {
        std::uint64_t socket_id;
        std::int64_t user_id;
        std::weak_ptr<core::WsConnection> socket;
    };
    struct Room {
        bus::Subscription subscription;
        std::vector<Member> members;
    };
    void deliver(const std::string& channel, const bus::Payload& frame);

    bus::Bus& bus_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Room> rooms_;  // by channel name
};

/// GET /ws?room_id= (one room, as the seed) and GET /ws (all the caller's rooms, with
/// subscribe/unsubscribe frames).
std::vector<core::WsRoute> ws_routes(ChatService& service, RoomHub& hub);

inline constexpr std::int64_t kMaxResumeMessages = 500;  // more missed → resync_required
inline constexpr std::size_t kMaxRoomsPerSocket = 2000;

}  // namespace msg::chat
