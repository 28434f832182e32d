#pragma once

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace msg::amqp {

/// Where an AMQP 0-9-1 broker is (LAVINMQ_URL, the seed's name):
/// `amqp://[user[:password]@]host[:port][/vhost]` (vhost percent-encoded: `%2f` is "/"; no path
/// is "/"). `amqps://` is refused: the Debian rabbitmq-c build would need CA configuration we do
/// not carry yet.
struct Url {
    std::string host;
    int port = 5672;
    std::string user = "guest";
    std::string password = "guest";
    std::string vhost = "/";

    /// `amqp://user:***@host:port/vhost`: never the password (for logs, errors, responses).
    std::string describe() const;
};

core::Result<Url> parse_url(std::string_view text);

}  // namespace msg::amqp
