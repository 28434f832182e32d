#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "core/task.hpp"
#include "core/ws.hpp"

namespace boost::asio {
class io_context;
}
namespace msg::org {
class OrgService;
}

namespace msg::session {

class SessionEvents;

/// Automatic presence (issue 4): counts each user's open sockets (chat and session) on this
/// node. The first makes the user `online`, closing the last makes them `offline` — unless
/// they chose a status by hand (org::OrgService::set_auto_presence). A real change is broadcast as
/// `status.changed` to the tenant.
///
/// One writer per user at a time: transitions are applied by a single coroutine that loops
/// until the database agrees with the socket count, so a quick open/close/open never leaves
/// a stale `offline` behind.
///
/// The count is per node. With several nodes a user's last socket on one node makes them
/// offline even if another node still holds one; a shared count (Redis) comes with the Redis
/// bus.
class Presence final : public core::PresenceObserver {
  public:
    Presence(org::OrgService& org, SessionEvents& events, boost::asio::io_context& io)
        : org_(org), events_(events), io_(io) {}

    void socket_opened(const std::string& tenant_id, std::int64_t user_id) override;
    void socket_closed(const std::string& tenant_id, std::int64_t user_id) override;

    /// Users with at least one open socket here.
    std::size_t users() const;

  private:
    using Key = std::pair<std::string, std::int64_t>;
    struct State {
        int sockets = 0;
        std::optional<bool> applied;  // what the database was last told (online?)
        bool running = false;         // a sync coroutine owns this user
    };
    void changed(const Key& key, int delta);
    core::Task<void> sync(Key key);

    org::OrgService& org_;
    SessionEvents& events_;
    boost::asio::io_context& io_;
    mutable std::mutex mutex_;
    std::map<Key, State> users_;
};

}  // namespace msg::session
