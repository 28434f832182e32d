#pragma once

#include "app/config.hpp"
#include "app/roles.hpp"

namespace msg::app {

/// Runs a serving role until SIGINT/SIGTERM, then shuts down within
/// SHUTDOWN_TIMEOUT_SECONDS: stop accepting, let in-flight requests finish, stop.
/// Returns the process exit code.
int run_server(const Config& config, const Role& role);

}  // namespace msg::app
