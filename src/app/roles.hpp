#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace msg::app {

/// Route groups a serving role mounts. Later issues add dbman…
/// session: devices, presence, notes; vector: vectorman's internal API + the index in process.
enum class RouteGroup { org, tenant, chat, session, vector, files };

enum class PortSetting { main_port, session_port, vectorman_port, fileman_port };

/// A serving role: which route groups it mounts and which port it listens on. One-shot roles
/// (`migrate`, `seed-admin`) are commands, handled in main.cpp.
struct Role {
    std::string_view name;
    std::vector<RouteGroup> groups;
    PortSetting port;
    bool migrate_on_start;  // the single-node role: applies migrations, resets stale presence
    bool outbox_relay;      // runs the outbox relay (single node; a later `worker` role too)

    bool has(RouteGroup g) const;
};

/// nullopt for an unknown role name.
std::optional<Role> find_role(std::string_view name);

/// Every role name, for the usage text.
std::vector<std::string_view> role_names();

}  // namespace msg::app
