#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <string>
#include <string_view>

namespace msg::core {

struct LogConfig {
    std::string format = "text";  // text | json
    std::string level = "info";   // trace debug info warn error critical off
};

/// Configures every logger (call once at start-up, before logger()).
void init_logging(const LogConfig& config);

/// The named logger of a module ("http", "pg", "org"…). Lines are `key=value` fields; the
/// request id goes in as `req=<id>` (STYLE rule 16).
std::shared_ptr<spdlog::logger> logger(const std::string& module);

/// Escapes a string for JSON output (used by the JSON log format).
std::string json_escape(std::string_view s);

}  // namespace msg::core
