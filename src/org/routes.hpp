#pragma once

#include <vector>

#include "core/http.hpp"

namespace msg::org {

class OrgService;

/// The whole REST surface of the module: login, org units, users, aliases (+ audit).
std::vector<core::Route> routes(OrgService& service);

}  // namespace msg::org
