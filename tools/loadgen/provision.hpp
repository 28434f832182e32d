#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace msg::loadgen {

/// What a scenario talks to: one tenant, `rooms` rooms of `members` users each (user i of room
/// r is users[r * members + i]), optionally `messages` messages already in every room.
struct Population {
    std::string tenant;
    std::vector<std::int64_t> users;
    std::vector<std::int64_t> rooms;
    int members = 0;
    std::vector<std::string> tokens;  // one JWT per user, same order
};

/// **Benchmark-only shortcut.** Writes the population straight into PostgreSQL in a few bulk
/// statements (not N argon2 logins or REST calls) and mints each user's JWT with the server's
/// secret. The users get an unusable password hash: they cannot log in, only use the minted
/// tokens. Throws on failure.
Population provision(const std::string& dsn, const std::string& jwt_secret, int rooms, int members,
                     int messages_per_room);

}  // namespace msg::loadgen
