#include "session/events.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <memory>

#include "bus/bus.hpp"
#include "core/ws.hpp"

namespace msg::session {

namespace json = boost::json;

void SessionEvents::publish(const json::object& event) {
    const std::string channel(kEventsChannel);
    bus_.publish(channel, core::json_frame(event));
}

void SessionEvents::notify_user(const std::string& tenant_id, std::int64_t user_id,
                                const json::object& payload) {
    publish(json::object{{"kind", "notify_user"},
                         {"tenant_id", tenant_id},
                         {"user_id", user_id},
                         {"payload", payload}});
}

void SessionEvents::notify_users(
    const std::string& tenant_id,
    const std::vector<std::pair<std::int64_t, json::object>>& payloads) {
    if (payloads.empty()) return;
    json::array user_ids;
    json::object payload_by;
    for (const auto& [user, payload] : payloads) {
        const std::string key = std::to_string(user);
        if (payload_by.contains(key)) continue;  // the first payload of a user wins
        user_ids.emplace_back(user);
        payload_by[key] = json::serialize(payload);  // a string of JSON, as the seed
    }
    publish(json::object{{"kind", "notify_users"},
                         {"tenant_id", tenant_id},
                         {"user_ids", std::move(user_ids)},
                         {"payload_by", std::move(payload_by)}});
}

void SessionEvents::broadcast_tenant(const std::string& tenant_id, const json::object& payload) {
    publish(
        json::object{{"kind", "broadcast_tenant"}, {"tenant_id", tenant_id}, {"payload", payload}});
}

void SessionEvents::close_session(const std::string& tenant_id, std::int64_t user_id,
                                  const std::string& session_id, std::int64_t before_generation) {
    publish(json::object{{"kind", "close_session"},
                         {"tenant_id", tenant_id},
                         {"user_id", user_id},
                         {"session_id", session_id},
                         {"before_generation", before_generation}});
}

}  // namespace msg::session
