#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "chat/room_hub.hpp"
#include "core/ws.hpp"

namespace msg::chat {

class ChatService;
class SocketBackend;

/// GET /ws?room_id= (one room, as the seed) and GET /ws (all the caller's rooms, with
/// subscribe/unsubscribe frames). `presence` (may be null) is told of every socket.
std::vector<core::WsRoute> ws_routes(ChatService& service, RoomHub& hub,
                                     core::PresenceObserver* presence);

/// The protocol object of one accepted chat socket (what `ws_routes` builds after its checks):
/// `single` is the room of a `/ws?room_id=` socket, `rooms` the rooms it starts in (the
/// caller must be a member of each; the socket confirms them on open).
std::shared_ptr<core::WsSession> make_chat_socket(SocketBackend& backend, RoomHub& hub,
                                                  core::PresenceObserver* presence,
                                                  core::Principal caller,
                                                  std::shared_ptr<core::WsConnection> socket,
                                                  std::optional<std::int64_t> single,
                                                  std::vector<std::int64_t> rooms);

inline constexpr std::int64_t kMaxResumeMessages = 500;  // a room's page of one resume
inline constexpr std::int64_t kMaxResumeRows = 5000;     // all rooms of one resume frame
inline constexpr std::size_t kMaxRoomsPerSocket = 2000;
inline constexpr std::size_t kMaxTypingPayloadBytes = 1024;
inline constexpr std::size_t kMaxSignalPayloadBytes = 16 * 1024;  // an SDP offer fits

}  // namespace msg::chat
