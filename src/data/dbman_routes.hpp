#pragma once

#include <vector>

#include "core/http.hpp"
#include "data/remote.hpp"

namespace msg::data {

/// The dbman role's internal API: `POST /api/internal/v1/db/<name>` for every registered
/// operation (Access::internal: `Authorization: Bearer <INTERNAL_API_TOKEN>`), run on `local`.
/// 200 with the Response as JSON; an operation's expected failure with its status and
/// `{"error","code","retry_after"}` (encode_error); a body that does not map onto the Request
/// 400. The registry and executor outlive the routes.
std::vector<core::Route> dbman_routes(const Registry& registry, Executor& local);

}  // namespace msg::data
