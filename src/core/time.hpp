#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace msg::core {

/// Parses RFC 3339 ("2026-02-15T09:00:00Z", "…T09:00:00.5+09:00") to Unix nanoseconds.
/// nullopt for anything else (no lowercase 't'/'z' leniency beyond what RFC 3339 allows).
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

}  // namespace msg::core
