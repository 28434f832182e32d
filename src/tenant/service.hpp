#pragma once

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
/// other tenant sees and patches only their own; nobody else gets in (403).
class TenantService {
  public:
    TenantService(data::Executor& db, std::string platform_tenant_id);

    core::Task<core::Result<std::vector<Tenant>>> list(const core::Principal& caller);
    core::Task<core::Result<Tenant>> create(const core::Principal& caller, Tenant tenant);
    core::Task<core::Result<Tenant>> update(const core::Principal& caller,
                                            const std::string& tenant_id, TenantPatch patch);

  private:
    bool is_platform_admin(const core::Principal& caller) const;

    data::Executor& db_;
    std::string platform_tenant_id_;
};

}  // namespace msg::tenant
