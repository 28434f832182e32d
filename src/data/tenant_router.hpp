#pragma once

#include <memory>
#include <string_view>

#include "core/task.hpp"

namespace msg::pg {
class Pool;
}

namespace msg::data {

/// Where a tenant's rows live: the shared database or, for a tenant with
/// `deployment_mode=dedicated`, its own (seed §7.1). The local executor asks before every
/// operation of a tenant; the tenants registry itself is always the shared database
/// (operations that say `kShared`). Implemented by tenant::DatabaseRouter.
class TenantRouter {
  public:
    virtual ~TenantRouter() = default;

    struct Route {
        std::shared_ptr<pg::Pool> pool;  // the tenant's dedicated database; null: the shared one
        bool moving = false;  // `msg_server tenant-move` is copying it: writes are refused
    };

    /// Where the tenant's rows are. Throws core::UnavailableException when the registry or the
    /// tenant's settings cannot be read.
    virtual core::Task<Route> route(std::string_view tenant) = 0;

    /// The database a sealed `dedicated_dsn` names, before the registry does (provisioning:
    /// operations that say `kProvisions` carry the DSN in their request).
    virtual std::shared_ptr<pg::Pool> pool_at(std::string_view sealed_dsn) = 0;

    /// Forgets what is cached of `tenant` (it changed); a pool no tenant uses any more closes
    /// once the operations still holding it end.
    virtual void invalidate(std::string_view tenant) = 0;
};

}  // namespace msg::data
