#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/task.hpp"
#include "redis/address.hpp"

namespace msg::session {

/// Who holds a user's sockets across the nodes of a deployment, so that presence follows the
/// user, not one node (issue 14). Answers are nullopt when the directory cannot be reached:
/// presence then goes by this node's own count, as a single node does.
class PresenceDirectory {
  public:
    using Key = std::pair<std::string, std::int64_t>;  // tenant, user
    virtual ~PresenceDirectory() = default;

    /// This node now holds sockets of the user (`here`) or none; whether any node does.
    virtual core::Task<std::optional<bool>> set_here(const Key& key, bool here) = 0;
    /// Whether any node holds sockets of the user.
    virtual core::Task<std::optional<bool>> online(const Key& key) = 0;
    /// Marks this node alive, makes the directory's entries of this node exactly
    /// `local_users()` (what it lost is written again, what it holds that is not local is
    /// removed), and takes over the users of nodes that stopped beating (crashed): their
    /// entries are removed. Returns the users whose entries changed, for presence to settle
    /// them again.
    virtual core::Task<std::vector<Key>> heartbeat(
        const std::function<std::vector<Key>()>& local_users) = 0;
    /// How often heartbeat() must run.
    virtual std::chrono::milliseconds beat_every() const = 0;
};

/// The directory in Redis. Keys: `presence:<tenant>:<user>` (hash: node → 1),
/// `presence:node:<node>` (set of `<tenant>:<user>`), `presence:nodes` (sorted set: node → last
/// beat, unix ms). A node whose beat is older than `node_ttl` is dead; the first node to
/// remove it from `presence:nodes` clears its entries. Commands run on a thread of its own.
std::unique_ptr<PresenceDirectory> redis_directory(redis::Address address, std::string node_id,
                                                   std::chrono::milliseconds node_ttl);

}  // namespace msg::session
