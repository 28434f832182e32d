#pragma once

#include <string>
#include <string_view>

namespace msg::core {

/// Lowercases ASCII letters only (Hangul and other scripts have no case to fold here).
std::string ascii_lower(std::string_view s);

/// Without leading and trailing ASCII white space.
std::string_view trim(std::string_view s);

/// A URL with the password of its userinfo replaced by `***` ("redis://:***@cache:6379",
/// "amqp://mq:***@broker/vhost"); anything without one comes back unchanged.
std::string mask_url_password(std::string_view url);

/// Well-formed UTF-8 (RFC 3629): no overlong forms (`C0 AF` is not a '/'), no surrogates, nothing
/// past U+10FFFF, no truncated sequence.
bool valid_utf8(std::string_view s);

}  // namespace msg::core
