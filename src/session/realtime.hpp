#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/ws.hpp"

namespace msg::session {

class SessionService;
class SessionHub;

/// GET /ws/session?tenant_id=&user_id=&session_id=&session_token= (seed §4.2): authenticated
/// by the device session, not a JWT (401 `unauthorized`). The first frame is
/// `session.connected`; then hub events. A `{"type":"ping"}` frame gets a pong; other client
/// frames are ignored (seed clients send them as keep-alives). `presence` may be null.
std::vector<core::WsRoute> ws_routes(SessionService& service, SessionHub& hub,
                                     core::PresenceObserver* presence);

/// What a client frame of the session socket gets back: a pong for `{"type":"ping"}`,
/// nothing for anything else (seed clients send other frames as keep-alives).
std::optional<core::Frame> answer_client_frame(std::string_view text);

}  // namespace msg::session
