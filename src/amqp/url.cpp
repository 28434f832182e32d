#include "amqp/url.hpp"

#include <amqp.h>

#include <vector>

namespace msg::amqp {

std::string Url::describe() const {
    std::string v = vhost == "/" ? "" : vhost;
    return "amqp://" + user + ":***@" + host + ":" + std::to_string(port) + "/" + v;
}

core::Result<Url> parse_url(std::string_view text) {
    if (text.empty() || text.size() > 2048) return core::invalid("LAVINMQ_URL is invalid");
    if (text.starts_with("amqps://")) {
        return core::invalid("LAVINMQ_URL: amqps:// (TLS) is not supported");
    }
    if (!text.starts_with("amqp://")) {
        return core::invalid("LAVINMQ_URL must start with amqp://");
    }
    // The host is required (amqp_parse_url would default it to localhost).
    std::string_view authority = text.substr(7);
    authority = authority.substr(0, authority.find('/'));
    if (auto at = authority.rfind('@'); at != std::string_view::npos) {
        authority.remove_prefix(at + 1);
    }
    if (authority.empty() || authority.front() == ':') {
        return core::invalid("LAVINMQ_URL needs a host");
    }
    // amqp_parse_url decodes in place and points into the buffer.
    std::vector<char> buffer(text.begin(), text.end());
    buffer.push_back('\0');
    amqp_connection_info info{};
    if (amqp_parse_url(buffer.data(), &info) != AMQP_STATUS_OK || info.host == nullptr ||
        *info.host == '\0' || info.port <= 0 || info.port > 65535) {
        return core::invalid("LAVINMQ_URL is invalid");
    }
    Url url;
    url.host = info.host;
    url.port = info.port;
    url.user = info.user != nullptr ? info.user : "guest";
    url.password = info.password != nullptr ? info.password : "guest";
    url.vhost = info.vhost != nullptr && *info.vhost != '\0' ? info.vhost : "/";
    return url;
}

}  // namespace msg::amqp
