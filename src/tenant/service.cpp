#include "tenant/service.hpp"

#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>

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

namespace {
/// The first field of `patch` other than the name that is present ("" if none).
std::string_view platform_field(const TenantPatch& patch) {
    std::string_view found;
    boost::mp11::mp_for_each<
        boost::describe::describe_members<TenantPatch, boost::describe::mod_public>>(
        [&](auto member) {
            if (!found.empty() || std::string_view(member.name) == "name") return;
            if ((patch.*member.pointer).has_value()) found = member.name;
        });
    return found;
}
}  // namespace

Task<Result<Tenant>> TenantService::update(const core::Principal& caller,
                                           const std::string& tenant_id, TenantPatch patch) {
    const bool platform = is_platform_admin(caller);
    const bool own = caller.role == "admin" && caller.tenant_id == tenant_id;
    if (!own && !platform) co_return core::forbidden("insufficient permissions");
    if (!platform) {
        // A tenant's own admin cannot lift its suspension or point it at other resources.
        if (auto field = platform_field(patch); !field.empty()) {
            co_return core::forbidden("only a platform admin may change " + std::string(field));
        }
    }
    if (tenant_id == platform_tenant_id_ && patch.is_active == false) {
        co_return core::invalid("the platform tenant cannot be deactivated");
    }
    const bool active_changes = patch.is_active.has_value();
    auto updated = co_await db_.run<UpdateTenant>(tenant_id, std::move(patch));
    if (updated && active_changes && active_observer_) active_observer_(tenant_id);
    co_return updated;
}

}  // namespace msg::tenant
