#pragma once

#include <cstddef>
#include <string>

#include "storage/pg/pool.hpp"

namespace msg::testing {

/// A fresh, migrated database for this test process, created on first use in the PostgreSQL
/// cluster named by MSG_TEST_POSTGRES_DSN (started by scripts/test.sh) and dropped at exit.
/// Without that variable the calling test fails: a test that needs PostgreSQL never skips.
/// Tests share it, so each test creates its own tenant (unique_tenant()).
const std::string& test_database_dsn();

/// Pool options for the test database with `max_size` connections.
pg::PoolOptions test_pool_options(std::size_t max_size);

/// A tenant slug no other test in this run uses.
std::string unique_tenant(const std::string& prefix = "t");

}  // namespace msg::testing
