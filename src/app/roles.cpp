#include "app/roles.hpp"

#include <algorithm>

namespace msg::app {

namespace {
using B = Backend;
using G = RouteGroup;
using W = Worker;

// The role table (ARCHITECTURE §2). `all` is the single-node deployment. A new role is a row
// here; a new engine is a Backend value and a factory in backends.cpp.
const std::vector<Role>& roles() {
    static const std::vector<Role> kRoles = {
        {"all",
         {G::org, G::tenant, G::chat, G::session, G::vector, G::files},
         &Ports::main,
         {W::migrate_on_start, W::outbox_relay, W::consumers},
         {B::blob, B::vector}},
        {"chat", {G::chat}, &Ports::main, {}, {}},
        // Notes attach files: session checks them with the files service (blob store).
        {"session", {G::org, G::tenant, G::session}, &Ports::session, {}, {B::blob}},
        // vectorman relays the outbox too: without a broker its in-process consumer indexes
        // message.created (run one per database); with one it reads msg.vector-index.
        {"vectorman", {G::vector}, &Ports::vectorman, {W::outbox_relay}, {B::vector}},
        {"fileman", {G::files}, &Ports::fileman, {}, {B::blob}},
        // Relays the outbox (several share the rows) and runs the thumbnails and notifications
        // consumer groups; serves health and metrics only. The vector-index consumer stays with
        // the role that owns the vector index. Without a broker in-process consumers only see
        // the rows their own node's relay takes: split roles need LAVINMQ_URL.
        {"worker", {}, &Ports::worker, {W::outbox_relay, W::consumers}, {B::blob}},
        // The data tier: every registered operation over internal HTTP, on its own pools.
        // Several share one database; clients fail over among them (DBMAN_ENDPOINTS).
        {"dbman", {G::dbman}, &Ports::dbman, {}, {}},
    };
    return kRoles;
}

template <class T>
bool contains(const std::vector<T>& v, T x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}
}  // namespace

bool Role::has(RouteGroup g) const { return contains(groups, g); }
bool Role::serves_only(RouteGroup g) const { return groups.size() == 1 && groups.front() == g; }
bool Role::runs(Worker w) const { return contains(workers, w); }
bool Role::uses(Backend b) const { return contains(backends, b); }

std::optional<Role> find_role(std::string_view name) {
    for (const auto& r : roles()) {
        if (r.name == name) return r;
    }
    return std::nullopt;
}

std::vector<std::string_view> role_names() {
    std::vector<std::string_view> names;
    for (const auto& r : roles()) names.push_back(r.name);
    return names;
}

}  // namespace msg::app
