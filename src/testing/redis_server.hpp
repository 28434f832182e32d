#pragma once

#include <string>

#include "redis/address.hpp"

namespace msg::testing {

/// A private redis-server (Debian's, or MSG_TEST_REDIS_SERVER) on a free loopback port, without
/// persistence, for one test: stop() and start() again on the same port make an outage.
class RedisServer {
  public:
    RedisServer();  // started
    ~RedisServer();
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    void start();  // waits until it answers PING
    void stop();   // SIGKILL: what a crash or a lost network looks like to clients

    redis::Address address() const { return {"127.0.0.1", port_, "", "", 0}; }
    std::string addr() const { return "127.0.0.1:" + std::to_string(port_); }

  private:
    unsigned short port_ = 0;
    int pid_ = -1;
};

}  // namespace msg::testing
