#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "redis/address.hpp"

namespace msg::redis {

struct ReplyDeleter {
    void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

/// The text of a string, status or error reply ("" for others).
std::string_view text(const redisReply& r);

/// One blocking connection to Redis, owned by one dedicated thread (never an I/O thread:
/// STYLE rule 11). Connects, authenticates and selects the database in the constructor; any
/// failure, there or later, throws std::runtime_error and leaves the connection unusable —
/// the owner makes a new one.
class Connection {
  public:
    /// `timeout` bounds the connect and every blocking read and write.
    Connection(const Address& address, std::chrono::milliseconds timeout);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Sends one command and waits for its reply; an error reply throws.
    Reply command(std::span<const std::string_view> args);
    Reply command(std::initializer_list<std::string_view> args) {
        return command(std::span<const std::string_view>(args.begin(), args.size()));
    }

    /// Pipelining: queue commands, write them all, then read one reply per command.
    void append(std::span<const std::string_view> args);
    void append(std::initializer_list<std::string_view> args) {
        append(std::span<const std::string_view>(args.begin(), args.size()));
    }
    void flush();
    Reply read();  // blocks up to the timeout

    /// For a poll() loop: the socket, a read of what has arrived, and the next complete reply
    /// already read (null when none is).
    int fd() const;
    void read_available();
    Reply next_buffered();

  private:
    [[noreturn]] void fail(std::string_view what) const;

    redisContext* context_ = nullptr;
    std::string where_;
};

}  // namespace msg::redis
