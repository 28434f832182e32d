#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/http.hpp"
#include "core/task.hpp"
#include "tenant/dedicated.hpp"
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
    /// `secrets`: TENANT_SECRETS_KEY; dedicated credentials are stored sealed with it.
    TenantService(data::Executor& db, std::string platform_tenant_id, std::string_view secrets);

    core::Task<core::Result<std::vector<Tenant>>> list(const core::Principal& caller);
    core::Task<core::Result<Tenant>> create(const core::Principal& caller, Tenant tenant);
    core::Task<core::Result<Tenant>> update(const core::Principal& caller,
                                            const std::string& tenant_id, TenantPatch patch);

    /// Called after a committed change of a tenant's `is_active` (the credentials guard
    /// closes its sockets and forgets its cached state). Set once at start-up.
    using ActiveObserver = std::function<void(const std::string& tenant_id)>;
    void on_active_changed(ActiveObserver observer) { active_observer_ = std::move(observer); }
    /// Called after every committed create or update (routers forget the tenant's route).
    void on_changed(ActiveObserver observer) { changed_observer_ = std::move(observer); }

  private:
    bool is_platform_admin(const core::Principal& caller) const;
    /// The stored row as callers see it: credentials opened (the JSON still hides them).
    void reveal(Tenant& t) const;
    /// The registry's row (credentials opened), or none.
    core::Task<core::Result<std::optional<Tenant>>> current(const std::string& tenant_id);
    /// A dedicated tenant's database: migrated, with the tenant's row (503 when it cannot be).
    core::Task<std::optional<core::Error>> provision(const Tenant& t);
    /// Before an update: a change of the database a tenant lives in is refused while it has
    /// data there (409); a dedicated one is provisioned.
    core::Task<std::optional<core::Error>> prepare(const Tenant& now, const Tenant& next);
    ActiveObserver active_observer_;
    ActiveObserver changed_observer_;
    SecretBox box_;

    data::Executor& db_;
    std::string platform_tenant_id_;
};

}  // namespace msg::tenant
