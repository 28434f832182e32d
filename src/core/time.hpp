#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace msg::core {

/// Parses RFC 3339 ("2026-02-15T09:00:00Z", "…T09:00:00.5+09:00") to Unix nanoseconds.
/// nullopt for anything else. Instants beyond int64 nanoseconds (after 2255 or before 1684)
/// are clamped to ±9e18.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

/// RFC 3339 UTC with microseconds, trailing zeros trimmed, as PostgreSQL prints timestamptz
/// ("2026-02-15T00:00:00.5Z", "2026-02-15T00:00:00Z").
std::string format_rfc3339(std::chrono::system_clock::time_point t);

}  // namespace msg::core
