#pragma once

#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>

#include "amqp/url.hpp"

namespace msg::testing {

/// The broker of this test run (MSG_TEST_AMQP_URL: scripts/test.sh starts one RabbitMQ node for
/// the whole run — it takes ~7 s to start). Tests keep out of each other's way with names of
/// their own (unique_amqp_name), not with brokers of their own.
inline amqp::Url test_amqp_url() {
    const char* url = std::getenv("MSG_TEST_AMQP_URL");
    if (url == nullptr || *url == '\0') {
        throw std::runtime_error(
            "MSG_TEST_AMQP_URL is not set: run the tests through scripts/test.sh (make test), "
            "which starts RabbitMQ");
    }
    auto parsed = amqp::parse_url(url);
    if (!parsed) throw std::runtime_error("MSG_TEST_AMQP_URL: " + parsed.error().message);
    return *parsed;
}

/// `<prefix>.<random>`: an exchange, queue or tenant name no other test uses.
inline std::string unique_amqp_name(const std::string& prefix) {
    std::random_device rd;
    return prefix + "." + std::to_string(rd()) + std::to_string(rd() % 1000);
}

}  // namespace msg::testing
