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
    using Request = Tenant;  // validated by the service
    using Response = Tenant;
    /// 409 `tenant already exists`.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};

struct UpdateTenant {
    static constexpr std::string_view kName = "tenants/update";
    static constexpr bool kReadOnly = false;
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

/// Adds every operation above to the dbman registry (wire.cpp).
void register_operations(data::Registry& r);

}  // namespace msg::tenant
