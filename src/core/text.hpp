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

}  // namespace msg::core
