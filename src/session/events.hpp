#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace msg::bus {
class Bus;
}

namespace msg::session {

/// The bus channel of session events (seed §4.2). Every node subscribes once; a publisher does
/// not deliver locally, it receives its own event like every other node.
inline constexpr std::string_view kEventsChannel = "session:events";

/// Publishes hub events on `session:events` in the seed's shapes, so a Redis bus carries them
/// between nodes unchanged:
///
///     {"kind":"notify_user","tenant_id","user_id","payload":{…}}
///     {"kind":"notify_users","tenant_id","user_ids":[…],"payload_by":{"<id>":"<JSON text>"}}
///     {"kind":"broadcast_tenant","tenant_id","payload":{…}}
///
/// plus one kind of ours, which seed nodes ignore (unknown kinds are dropped):
///
///     {"kind":"close_session","tenant_id","user_id","session_id","before_generation":N}
///
/// closes the sockets of a device session opened with an older token generation (after a new
/// login or a logout), on whichever node they are.
class SessionEvents {
  public:
    explicit SessionEvents(bus::Bus& bus) : bus_(bus) {}

    void notify_user(const std::string& tenant_id, std::int64_t user_id,
                     const boost::json::object& payload);
    /// One payload per user (each recipient's own view, e.g. its recipient_type).
    void notify_users(const std::string& tenant_id,
                      const std::vector<std::pair<std::int64_t, boost::json::object>>& payloads);
    void broadcast_tenant(const std::string& tenant_id, const boost::json::object& payload);
    void close_session(const std::string& tenant_id, std::int64_t user_id,
                       const std::string& session_id, std::int64_t before_generation);

  private:
    void publish(const boost::json::object& event);

    bus::Bus& bus_;
};

}  // namespace msg::session
