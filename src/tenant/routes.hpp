#pragma once

#include <vector>

#include "core/http.hpp"

namespace msg::tenant {

class TenantService;

/// GET/POST /api/v1/tenants, PATCH /api/v1/tenants/:id.
std::vector<core::Route> routes(TenantService& service);

}  // namespace msg::tenant
