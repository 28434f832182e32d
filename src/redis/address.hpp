#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace msg::redis {

/// Where a Redis server is (REDIS_ADDR, the seed's name): `host:port`, `host` (port 6379), or a
/// URL `redis://[[user]:password@]host[:port][/db]`. `rediss://` (TLS) is refused: Debian 12's
/// hiredis (0.14) has no TLS.
struct Address {
    std::string host;
    unsigned short port = 6379;
    std::string user;      // ACL user (Redis 6+); empty: the default user
    std::string password;  // empty: no AUTH
    int db = 0;

    /// `host:port/db`, never the password (for logs and errors).
    std::string describe() const;
};

core::Result<Address> parse_address(std::string_view text);

}  // namespace msg::redis
