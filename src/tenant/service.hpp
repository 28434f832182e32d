#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/http.hpp"
#include "core/task.hpp"
#include "tenant/model.hpp"

namespace msg::data {
class Executor;
}

namespace msg::tenant {

/// Tenant administration. Admins of the platform tenant manage every tenant; the admin of any
/// other tenant sees their own and may rename it, nothing else (403 `only a platform admin may
/// change <field>`: suspension, deployment mode, dedicated resources, thresholds); nobody else
/// gets in (403).
class TenantService {
  public:
    TenantService(data::Executor& db, std::string platform_tenant_id);

    core::Task<core::Result<std::vector<Tenant>>> list(const core::Principal& caller);
    core::Task<core::Result<Tenant>> create(const core::Principal& caller, Tenant tenant);
    core::Task<core::Result<Tenant>> update(const core::Principal& caller,
                                            const std::string& tenant_id, TenantPatch patch);

    /// Called after a committed change of a tenant's `is_active` (the credentials guard
    /// closes its sockets and forgets its cached state). Set once at start-up.
    using ActiveObserver = std::function<void(const std::string& tenant_id)>;
    void on_active_changed(ActiveObserver observer) { active_observer_ = std::move(observer); }

  private:
    bool is_platform_admin(const core::Principal& caller) const;
    ActiveObserver active_observer_;

    data::Executor& db_;
    std::string platform_tenant_id_;
};

}  // namespace msg::tenant
