#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "bus/bus.hpp"
#include "core/ws.hpp"

namespace msg::session {

/// This node's `/ws/session` sockets, keyed by tenant and user, and the delivery of hub events
/// (events.hpp) arriving on `session:events` to them. One bus subscription for the node's
/// lifetime. A device may hold several sockets; every one of them gets every event.
class SessionHub {
  public:
    explicit SessionHub(bus::Bus& bus);

    struct Socket {
        std::string session_id;
        std::int64_t generation = 0;  // the token generation it was opened with
        std::shared_ptr<core::WsConnection> connection;
    };
    void add(const std::string& tenant_id, std::int64_t user_id, const Socket& socket);
    void remove(const std::string& tenant_id, std::int64_t user_id, std::uint64_t socket_id);

    std::size_t sockets() const;

  private:
    struct Entry {
        std::uint64_t socket_id;
        std::string session_id;
        std::int64_t generation;
        std::weak_ptr<core::WsConnection> connection;
    };
    using Users = std::unordered_map<std::int64_t, std::vector<Entry>>;

    void deliver(const bus::Payload& event);
    /// The bus may have missed events (Redis reconnected): `{"type":"resync_required"}` to
    /// every socket.
    void lost();

    mutable std::mutex mutex_;
    std::unordered_map<std::string, Users> tenants_;
    std::size_t count_ = 0;
    bus::Subscription subscription_;  // last: ends before the maps go
};

}  // namespace msg::session
