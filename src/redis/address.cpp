#include "redis/address.hpp"

#include <charconv>

namespace msg::redis {

namespace {

bool parse_number(std::string_view s, int min, int max, int& out) {
    int v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < min || v > max) return false;
    out = v;
    return true;
}

}  // namespace

std::string Address::describe() const {
    return host + ":" + std::to_string(port) + (db != 0 ? "/" + std::to_string(db) : "");
}

core::Result<Address> parse_address(std::string_view text) {
    Address a;
    std::string_view rest = text;
    if (rest.starts_with("rediss://")) {
        return core::invalid(
            "REDIS_ADDR: rediss:// (TLS) is not supported by this build's hiredis");
    }
    const bool url = rest.starts_with("redis://");
    if (url) {
        rest.remove_prefix(8);
        if (auto slash = rest.find('/'); slash != std::string_view::npos) {
            auto db = rest.substr(slash + 1);
            if (!db.empty() && !parse_number(db, 0, 15, a.db)) {
                return core::invalid("REDIS_ADDR: the database must be 0..15");
            }
            rest = rest.substr(0, slash);
        }
        if (auto at = rest.rfind('@'); at != std::string_view::npos) {
            auto userinfo = rest.substr(0, at);
            rest.remove_prefix(at + 1);
            auto colon = userinfo.find(':');
            if (colon == std::string_view::npos) {
                a.password = std::string(userinfo);  // redis://secret@host
            } else {
                a.user = std::string(userinfo.substr(0, colon));
                a.password = std::string(userinfo.substr(colon + 1));
            }
        }
    } else if (rest.find("://") != std::string_view::npos) {
        return core::invalid("REDIS_ADDR: use host:port or a redis:// URL");
    } else if (rest.find_first_of("@/") != std::string_view::npos) {
        // A password belongs in a redis:// URL; as host:port it would end up in logs.
        return core::invalid("REDIS_ADDR: a password or database needs the redis:// form");
    }
    auto colon = rest.rfind(':');
    std::string_view host = rest;
    if (colon != std::string_view::npos) {
        int port = 0;
        if (!parse_number(rest.substr(colon + 1), 1, 65535, port)) {
            return core::invalid("REDIS_ADDR: the port must be 1..65535");
        }
        a.port = static_cast<unsigned short>(port);
        host = rest.substr(0, colon);
    }
    if (host.empty()) return core::invalid("REDIS_ADDR: a host is required");
    a.host = std::string(host);
    return a;
}

}  // namespace msg::redis
