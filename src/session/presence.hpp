#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/task.hpp"
#include "core/task_group.hpp"
#include "core/timers.hpp"
#include "core/ws.hpp"
#include "session/directory.hpp"

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
/// With a directory (Redis, several nodes) the user is online while any node holds a socket of
/// theirs: each node tells the directory when it starts or stops holding the user's sockets,
/// and the node that sees the user's last socket anywhere close writes `offline`. Users of a
/// node that stops beating (crashed) are released by another node within the directory's
/// TTL. Without one — or while it is unreachable — this node's own count decides.
class Presence final : public core::PresenceObserver {
  public:
    /// Its coroutines (per-user syncs, heartbeats) run in `tasks`: a shutdown waits for them.
    Presence(org::OrgService& org, SessionEvents& events, core::TaskGroup& tasks,
             PresenceDirectory* directory = nullptr)
        : org_(org), events_(events), tasks_(tasks), directory_(directory) {}

    /// Beats the directory (if any) every directory->beat_every() on `timers`, and settles
    /// the users it hands back from stopped nodes.
    void start(core::Timers& timers);
    /// No more beats (SIGTERM); syncs under way finish.
    void stop() { stopping_ = true; }

    void socket_opened(const std::string& tenant_id, std::int64_t user_id) override;
    void socket_closed(const std::string& tenant_id, std::int64_t user_id) override;

    /// Users with at least one open socket here.
    std::size_t users() const;

  private:
    using Key = std::pair<std::string, std::int64_t>;
    struct State {
        int sockets = 0;
        std::optional<bool> applied;     // what the database was last told (online?)
        std::optional<bool> registered;  // what the directory was last told (held here?)
        bool running = false;            // a sync coroutine owns this user
        bool recheck = false;            // start over: the directory's view of them changed
    };
    void changed(const Key& key, int delta);
    /// Settles the user again from scratch (the directory's entries of them changed).
    void resettle(const Key& key);
    core::Task<void> sync(Key key);
    /// Whether the user is online anywhere, telling the directory first what this node holds.
    core::Task<bool> online_anywhere(const Key& key, bool here);
    /// Writes the automatic status; a real change is broadcast.
    core::Task<void> apply(const Key& key, bool online);
    core::Task<void> beat(core::Timers* timers);
    std::vector<Key> local_users() const;

    org::OrgService& org_;
    SessionEvents& events_;
    core::TaskGroup& tasks_;
    PresenceDirectory* directory_;
    std::atomic<bool> stopping_{false};
    mutable std::mutex mutex_;
    std::map<Key, State> users_;
};

}  // namespace msg::session
