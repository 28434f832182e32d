#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "app/config.hpp"

namespace msg::app {

/// Route groups a serving role mounts (each with the services behind it).
/// session: devices, presence, notes; vector: vectorman's internal API; dbman: the data
/// operations' internal API.
enum class RouteGroup { org, tenant, chat, session, vector, files, dbman };

/// Work a role does besides answering requests.
enum class Worker {
    migrate_on_start,  // the single-node role: applies migrations, resets stale presence
    outbox_relay,      // relays the outbox to the broker and in-process consumers
    consumers,         // the thumbnails and notifications consumer groups (with the relay)
};

/// Engines a role may need besides the two every role has (the database executor and the
/// bus: credentials are checked and revoked through them everywhere). Each is built by one
/// factory (backends.hpp) that picks the implementation from Config.
enum class Backend {
    blob,    // file bytes: local disk or the S3 API (files, and notes' attachments)
    vector,  // the message vector index and its embedder
};

/// A row of the role table (ARCHITECTURE §2): what `msg_server <name>` serves and runs.
struct Role {
    std::string_view name;
    std::vector<RouteGroup> groups;
    unsigned short Ports::*port;  // which of Config::ports it listens on
    std::vector<Worker> workers;
    std::vector<Backend> backends;

    bool has(RouteGroup g) const;
    /// The role serves `g` and nothing else (vectorman: nothing but internal routes).
    bool serves_only(RouteGroup g) const;
    bool runs(Worker w) const;
    bool uses(Backend b) const;
};

/// nullopt for an unknown role name (one-shot commands are in commands.hpp).
std::optional<Role> find_role(std::string_view name);

/// Every serving role's name, for the usage text.
std::vector<std::string_view> role_names();

}  // namespace msg::app
