#pragma once

// The data module's own operation: the readiness probe, run like any other so a node behind a
// dbman tier asks the tier (which asks its database) instead of a pool it does not have.

#include <string_view>

#include "core/describe.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

namespace msg::pg {
class Connection;
}

namespace msg::data {

class Registry;

struct Ping {
    static constexpr std::string_view kName = "health/ping";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // readiness: writes must be possible
    struct Request {};
    struct Response {
        bool ok = false;
    };
    /// `SELECT 1`; throws core::UnavailableException when the database is away.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(Ping::Response, (), (ok))

/// Adds Ping to the dbman registry.
void register_operations(Registry& r);

}  // namespace msg::data
