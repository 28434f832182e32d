#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/describe.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
#include "tenant/model.hpp"

namespace msg::pg {
class Connection;  // storage/pg/connection.hpp (libpq) stays out of this header
}

namespace msg::data {
class Registry;  // data/remote.hpp
}

namespace msg::tenant {

struct ListTenants {
    static constexpr std::string_view kName = "tenants/list";
    static constexpr bool kReadOnly = true;
    static constexpr bool kShared = true;  // the registry: always the shared database
    struct Request {
        std::optional<std::string> only;  // a tenant admin sees only their own tenant
    };
    struct Response {
        std::vector<Tenant> items;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(ListTenants::Request, (), (only))
MSG_DESCRIBE_STRUCT(ListTenants::Response, (), (items))

struct CreateTenant {
    static constexpr std::string_view kName = "tenants/create";
    static constexpr bool kReadOnly = false;
    static constexpr bool kShared = true;
    using Request = Tenant;  // validated by the service
    using Response = Tenant;
    /// 409 `tenant already exists`.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};

struct UpdateTenant {
    static constexpr std::string_view kName = "tenants/update";
    static constexpr bool kReadOnly = false;
    static constexpr bool kShared = true;
    static constexpr bool kIdempotent = true;  // sets the patched fields
    struct Request {
        std::string tenant_id;
        TenantPatch patch;
    };
    using Response = Tenant;
    /// Reads the row under lock, applies the patch, validates the result, writes it.
    /// 404 `tenant not found`; validation errors as normalize_and_validate.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(UpdateTenant::Request, (), (tenant_id, patch))

/// Does the tenant have rows where its data lives now (users, org units, rooms)? A tenant that
/// has may not be re-pointed at another database by a PATCH: that is `tenant-move`.
struct TenantHasData {
    static constexpr std::string_view kName = "tenants/has-data";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // a check before a write
    struct Request {
        std::string tenant_id;
    };
    struct Response {
        bool has_data = false;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(TenantHasData::Request, (), (tenant_id))
MSG_DESCRIBE_STRUCT(TenantHasData::Response, (), (has_data))

/// Makes a dedicated tenant's own database ready: the embedded migrations (a database at the
/// current version only checks), then the tenant's row there — name and is_active, which
/// login and token checks read beside the users; never its dedicated settings. It runs on the
/// database `dedicated_dsn` (sealed) names, before the registry is changed to name it, so a
/// database that cannot be reached or migrated is refused with nothing saved; and before
/// every later change of a dedicated tenant, so that row follows (a suspension counts there).
struct ProvisionTenant {
    static constexpr std::string_view kName = "tenants/provision";
    static constexpr bool kReadOnly = false;
    static constexpr bool kIdempotent = true;  // migrations and an upsert
    static constexpr bool kProvisions = true;  // runs at request.dedicated_dsn
    struct Request {
        std::string tenant_id;
        std::string name;
        bool is_active = true;
        std::string dedicated_dsn;  // sealed (tenant/dedicated.hpp)
    };
    struct Response {
        int migrations_applied = 0;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(ProvisionTenant::Request, (), (tenant_id, name, is_active, dedicated_dsn))
MSG_DESCRIBE_STRUCT(ProvisionTenant::Response, (), (migrations_applied))

/// Adds every operation above to the dbman registry (wire.cpp).
void register_operations(data::Registry& r);

}  // namespace msg::tenant
