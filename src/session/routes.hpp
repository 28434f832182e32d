#pragma once

#include <vector>

#include "core/http.hpp"

namespace msg::session {

class SessionService;

/// Device sessions, the caller's status, chat notifications (REST). The socket is in
/// realtime.hpp.
std::vector<core::Route> routes(SessionService& service);

}  // namespace msg::session
