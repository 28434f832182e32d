#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/task.hpp"
#include "storage/pg/connection.hpp"

namespace msg::pg {

struct Migration {
    std::string_view name;  // "001_tenants_org_users.sql"; applied in name order
    std::string_view sql;
};

/// The files of migrations/, compiled into the binary (target msg_migrations).
std::vector<Migration> embedded_migrations();

/// Applies, in order, every migration not yet recorded in schema_migrations, each in its own
/// transaction together with its record. Concurrent migrators (several nodes starting at once)
/// serialise on an advisory lock. Returns the names applied now.
core::Task<std::vector<std::string>> migrate(Connection& conn,
                                             const std::vector<Migration>& migrations);

}  // namespace msg::pg
