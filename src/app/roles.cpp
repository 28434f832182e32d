#include "app/roles.hpp"

namespace msg::app {

namespace {
// The role table (ARCHITECTURE §2). `all` is the single-node deployment.
const std::vector<Role>& roles() {
    static const std::vector<Role> kRoles = {
        {"all",
         {RouteGroup::org, RouteGroup::tenant, RouteGroup::chat, RouteGroup::session,
          RouteGroup::vector, RouteGroup::files},
         PortSetting::main_port,
         true,
         true},
        {"chat", {RouteGroup::chat}, PortSetting::main_port, false, false},
        {"session",
         {RouteGroup::org, RouteGroup::tenant, RouteGroup::session},
         PortSetting::session_port,
         false,
         false},
        // Until the `worker` role exists, vectorman relays the outbox itself (its consumer
        // indexes message.created); run one vectorman per database.
        {"vectorman", {RouteGroup::vector}, PortSetting::vectorman_port, false, true},
        {"fileman", {RouteGroup::files}, PortSetting::fileman_port, false, false},
    };
    return kRoles;
}
}  // namespace

bool Role::has(RouteGroup g) const {
    for (auto x : groups) {
        if (x == g) return true;
    }
    return false;
}

std::optional<Role> find_role(std::string_view name) {
    for (const auto& r : roles()) {
        if (r.name == name) return r;
    }
    return std::nullopt;
}

std::vector<std::string_view> role_names() {
    std::vector<std::string_view> names;
    for (const auto& r : roles()) names.push_back(r.name);
    names.push_back("migrate");
    names.push_back("seed-admin");
    names.push_back("reindex");
    return names;
}

}  // namespace msg::app
