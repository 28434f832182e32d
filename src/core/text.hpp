#pragma once

#include <string>
#include <string_view>

namespace msg::core {

/// Lowercases ASCII letters only (Hangul and other scripts have no case to fold here).
std::string ascii_lower(std::string_view s);

/// Without leading and trailing ASCII white space.
std::string_view trim(std::string_view s);

}  // namespace msg::core
