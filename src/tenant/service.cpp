#include "tenant/service.hpp"

#include "data/executor.hpp"
#include "tenant/operations.hpp"

namespace msg::tenant {

using core::Result;
using core::Task;

TenantService::TenantService(data::Executor& db, std::string platform_tenant_id)
    : db_(db), platform_tenant_id_(std::move(platform_tenant_id)) {}

bool TenantService::is_platform_admin(const core::Principal& caller) const {
    return caller.role == "admin" && caller.tenant_id == platform_tenant_id_;
}

Task<Result<std::vector<Tenant>>> TenantService::list(const core::Principal& caller) {
    if (caller.role != "admin") co_return core::forbidden("insufficient permissions");
    ListTenants::Request req;
    if (!is_platform_admin(caller)) req.only = caller.tenant_id;
    auto r = co_await db_.run<ListTenants>(std::move(req));
    if (!r) co_return r.error();
    co_return std::move(r->items);
}

Task<Result<Tenant>> TenantService::create(const core::Principal& caller, Tenant tenant) {
    if (!is_platform_admin(caller)) co_return core::forbidden("insufficient permissions");
    if (auto error = normalize_and_validate(tenant)) co_return *error;
    co_return co_await db_.run<CreateTenant>(std::move(tenant));
}

Task<Result<Tenant>> TenantService::update(const core::Principal& caller,
                                           const std::string& tenant_id, TenantPatch patch) {
    const bool own = caller.role == "admin" && caller.tenant_id == tenant_id;
    if (!own && !is_platform_admin(caller)) co_return core::forbidden("insufficient permissions");
    if (tenant_id == platform_tenant_id_ && patch.is_active == false) {
        co_return core::invalid("the platform tenant cannot be deactivated");
    }
    co_return co_await db_.run<UpdateTenant>(tenant_id, std::move(patch));
}

}  // namespace msg::tenant
