#include "tenant/service.hpp"

#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>

#include "core/log.hpp"
#include "data/executor.hpp"
#include "tenant/operations.hpp"

namespace msg::tenant {

using core::Result;
using core::Task;

TenantService::TenantService(data::Executor& db, std::string platform_tenant_id,
                             std::string_view secrets)
    : box_(secrets), db_(db), platform_tenant_id_(std::move(platform_tenant_id)) {}

void TenantService::reveal(Tenant& t) const {
    if (auto e = open_secrets(box_, t)) {
        // Another key than the one they were sealed with: show them as not configured
        // rather than fail the listing.
        core::logger("tenant")->warn("tenant secrets unreadable tenant={} error=\"{}\"",
                                     t.tenant_id, e->message);
        for (auto* f : {&t.dedicated_dsn, &t.dedicated_redis_addr, &t.dedicated_lavinmq_url,
                        &t.dedicated_minio_access_key, &t.dedicated_minio_secret_key}) {
            if (f->starts_with("enc:")) f->clear();
        }
    }
}

bool TenantService::is_platform_admin(const core::Principal& caller) const {
    return caller.role == "admin" && caller.tenant_id == platform_tenant_id_;
}

Task<Result<std::vector<Tenant>>> TenantService::list(const core::Principal& caller) {
    if (caller.role != "admin") co_return core::forbidden("insufficient permissions");
    ListTenants::Request req;
    if (!is_platform_admin(caller)) req.only = caller.tenant_id;
    auto r = co_await db_.run<ListTenants>(std::move(req));
    if (!r) co_return r.error();
    for (Tenant& t : r->items) reveal(t);
    co_return std::move(r->items);
}

Task<Result<Tenant>> TenantService::create(const core::Principal& caller, Tenant tenant) {
    if (!is_platform_admin(caller)) co_return core::forbidden("insufficient permissions");
    if (auto error = normalize_and_validate(tenant)) co_return *error;
    if (auto error = validate_dedicated(tenant)) co_return *error;
    if (tenant.deployment_mode == "dedicated") {
        // Its database first: unreachable or not migratable → refused with nothing saved. An
        // existing id is refused before, so its database's row is never touched.
        auto existing = co_await current(tenant.tenant_id);
        if (!existing) co_return existing.error();
        if (*existing) co_return core::conflict("tenant already exists");
        if (auto error = co_await provision(tenant)) co_return *error;
    }
    if (auto error = seal_secrets(box_, tenant)) co_return *error;
    auto created = co_await db_.run<CreateTenant>(std::move(tenant));
    if (!created) co_return created;
    if (changed_observer_) changed_observer_(created->tenant_id);
    reveal(*created);
    co_return created;
}

Task<Result<std::optional<Tenant>>> TenantService::current(const std::string& tenant_id) {
    ListTenants::Request req;
    req.only = tenant_id;
    auto found = co_await db_.run<ListTenants>(std::move(req));
    if (!found) co_return found.error();
    std::optional<Tenant> t;
    if (!found->items.empty()) {
        t = std::move(found->items.front());
        reveal(*t);
    }
    co_return t;
}

Task<std::optional<core::Error>> TenantService::provision(const Tenant& t) {
    if (!box_.configured()) co_return core::unavailable("tenant secrets key is not configured");
    const std::string sealed = box_.seal(t.dedicated_dsn);
    std::string failure;
    try {
        auto done = co_await db_.run<ProvisionTenant>(t.tenant_id, t.name, t.is_active, sealed);
        if (!done) failure = done.error().message;
    } catch (const std::exception& e) {
        failure = e.what();
    }
    if (failure.empty()) co_return std::nullopt;
    core::logger("tenant")->error("dedicated database not provisioned tenant={} error=\"{}\"",
                                  t.tenant_id, failure);
    co_return core::unavailable("the dedicated database could not be prepared");
}

Task<std::optional<core::Error>> TenantService::prepare(const Tenant& now, const Tenant& next) {
    auto where = [](const Tenant& t) {
        return t.deployment_mode == "dedicated" ? t.dedicated_dsn : std::string();
    };
    if (where(now) != where(next)) {
        auto data = co_await db_.run<TenantHasData>(now.tenant_id);
        if (!data) co_return data.error();
        if (data->has_data) {
            co_return core::conflict("tenant has data: move it with msg_server tenant-move");
        }
    }
    if (next.deployment_mode != "dedicated") co_return std::nullopt;
    // Before the registry names it (a new database), and after a rename or a suspension: the
    // dedicated database's own row follows first, so a suspension counts there at once.
    co_return co_await provision(next);
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
    if (auto error = validate_dedicated(patch)) co_return *error;
    auto now = co_await current(tenant_id);
    if (!now) co_return now.error();
    if (!*now) co_return core::not_found("tenant not found");
    Tenant next = **now;
    apply(patch, next);
    if (auto error = normalize_and_validate(next)) co_return *error;
    if (auto error = co_await prepare(**now, next)) co_return *error;
    if (auto error = seal_secrets(box_, patch)) co_return *error;
    const bool active_changes = patch.is_active.has_value();
    auto updated = co_await db_.run<UpdateTenant>(tenant_id, std::move(patch));
    if (!updated) co_return updated;
    if (changed_observer_) changed_observer_(tenant_id);
    if (active_changes && active_observer_) active_observer_(tenant_id);
    reveal(*updated);
    co_return updated;
}

}  // namespace msg::tenant
