#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/task.hpp"

#include "storage/pg/pool.hpp"

namespace msg::testing {

/// A fresh, migrated database for this test process, created on first use in the PostgreSQL
/// cluster named by MSG_TEST_POSTGRES_DSN (started by scripts/test.sh) and dropped at exit.
/// Without that variable the calling test fails: a test that needs PostgreSQL never skips.
/// Tests share it, so each test creates its own tenant (unique_tenant()).
const std::string& test_database_dsn();

/// One more fresh, migrated database (dropped at exit): for a test that compares two runs of
/// the same steps, each on an empty database, so their ids match.
std::string another_test_database_dsn();

/// The cluster's streaming replica (MSG_TEST_POSTGRES_REPLICA_DSN, started by scripts/test.sh),
/// database `postgres`: where a test pauses and resumes replay. Throws when it is not set.
std::string replica_admin_dsn();
/// The database `dsn` names, on the replica.
std::string replica_dsn_of(const std::string& dsn);
/// Runs one statement on its own blocking connection (setup and teardown outside the loop).
void run_sql(const std::string& dsn, const std::string& sql);

/// Pool options for the test database with `max_size` connections.
pg::PoolOptions test_pool_options(std::size_t max_size);

/// A tenant slug no other test in this run uses.
std::string unique_tenant(const std::string& prefix = "t");

/// Creates `tenant` with one org unit and `users` users (emails u0@example.com…, role user,
/// status offline) straight in SQL, and returns the user ids in order. For tests of modules
/// that need people but are not about them.
core::Task<std::vector<std::int64_t>> create_tenant_with_users(pg::Pool& pool, std::string tenant,
                                                               int users);

}  // namespace msg::testing
