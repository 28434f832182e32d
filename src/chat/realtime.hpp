#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "chat/room_hub.hpp"
#include "core/ws.hpp"

namespace msg::chat {

class ChatService;

/// GET /ws?room_id= (one room, as the seed) and GET /ws (all the caller's rooms, with
/// subscribe/unsubscribe frames). `presence` (may be null) is told of every socket.
std::vector<core::WsRoute> ws_routes(ChatService& service, RoomHub& hub,
                                     core::PresenceObserver* presence);

inline constexpr std::int64_t kMaxResumeMessages = 500;  // more missed → resync_required
inline constexpr std::size_t kMaxRoomsPerSocket = 2000;
inline constexpr std::size_t kMaxTypingPayloadBytes = 1024;
inline constexpr std::size_t kMaxSignalPayloadBytes = 16 * 1024;  // an SDP offer fits

}  // namespace msg::chat
