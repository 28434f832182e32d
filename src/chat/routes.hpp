#pragma once

#include <vector>

#include "core/http.hpp"

namespace msg::chat {

class ChatService;

/// Rooms, members, messages, read state (REST). The WebSocket endpoints are added with the
/// realtime hub.
std::vector<core::Route> routes(ChatService& service);

}  // namespace msg::chat
