#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace msg::core {

/// `bytes` bytes from the kernel CSPRNG (getrandom(2)), base64url encoded (generated
/// passwords, tokens). Throws std::runtime_error if the kernel cannot supply them.
std::string random_token(std::size_t bytes);
/// `bytes` bytes from the CSPRNG as lowercase hex (device session tokens, temp-file names:
/// 2×bytes chars).
std::string random_hex(std::size_t bytes);
/// Equal secrets, in time independent of where they differ (their lengths are not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace msg::core
