#pragma once

#include "app/config.hpp"
#include "app/roles.hpp"

namespace msg::app {

/// Runs a serving role until SIGINT/SIGTERM, then shuts down within
/// SHUTDOWN_TIMEOUT_SECONDS: stop accepting, let in-flight requests finish, stop.
/// Returns the process exit code.
int run_server(const Config& config, const Role& role);

/// `migrate`: applies pending migrations and exits.
int run_migrate(const Config& config);

/// `seed-admin`: creates the tenant and a root org unit if missing, and creates or updates the
/// admin user; prints a generated password once.
int run_seed_admin(const Config& config);

/// `reindex`: computes the search tokens of messages written before search existed
/// (migration 004), in batches; resumable.
int run_reindex(const Config& config);

}  // namespace msg::app
