#include "redis/connection.hpp"

#include <stdexcept>

namespace msg::redis {

namespace {

timeval to_timeval(std::chrono::milliseconds t) {
    timeval tv{};
    tv.tv_sec = static_cast<decltype(tv.tv_sec)>(t.count() / 1000);
    tv.tv_usec = static_cast<decltype(tv.tv_usec)>((t.count() % 1000) * 1000);
    return tv;
}

}  // namespace

std::string_view text(const redisReply& r) {
    if (r.type == REDIS_REPLY_STRING || r.type == REDIS_REPLY_STATUS ||
        r.type == REDIS_REPLY_ERROR) {
        return {r.str, r.len};
    }
    return {};
}

Connection::Connection(const Address& address, std::chrono::milliseconds timeout)
    : where_(address.describe()) {
    context_ = redisConnectWithTimeout(address.host.c_str(), address.port, to_timeval(timeout));
    if (context_ == nullptr) throw std::runtime_error("redis " + where_ + ": out of memory");
    try {
        if (context_->err != 0) fail("connect");
        if (redisSetTimeout(context_, to_timeval(timeout)) != REDIS_OK) fail("set timeout");
        if (!address.password.empty()) {
            if (address.user.empty()) {
                command({"AUTH", address.password});
            } else {
                command({"AUTH", address.user, address.password});
            }
        }
        if (address.db != 0) command({"SELECT", std::to_string(address.db)});
    } catch (...) {
        redisFree(context_);  // the destructor does not run for a throwing constructor
        context_ = nullptr;
        throw;
    }
}

Connection::~Connection() {
    if (context_ != nullptr) redisFree(context_);
}

void Connection::fail(std::string_view what) const {
    std::string message = "redis " + where_ + ": " + std::string(what);
    if (context_ != nullptr && context_->err != 0) {
        message += ": ";
        message += context_->errstr;
    }
    throw std::runtime_error(message);
}

void Connection::append(std::span<const std::string_view> args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (auto a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
    }
    if (redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(),
                               lengths.data()) != REDIS_OK) {
        fail("append");
    }
}

void Connection::flush() {
    int done = 0;
    while (done == 0) {
        if (redisBufferWrite(context_, &done) != REDIS_OK) fail("write");
    }
}

Reply Connection::read() {
    void* reply = nullptr;
    if (redisGetReply(context_, &reply) != REDIS_OK || reply == nullptr) fail("read");
    return Reply(static_cast<redisReply*>(reply));
}

Reply Connection::command(std::span<const std::string_view> args) {
    append(args);
    Reply r = read();
    if (r->type == REDIS_REPLY_ERROR) {
        // AUTH failures name the reason, never the password (it is not in the reply).
        throw std::runtime_error("redis " + where_ + ": " + std::string(args.front()) + ": " +
                                 std::string(text(*r)));
    }
    return r;
}

int Connection::fd() const { return context_->fd; }

void Connection::read_available() {
    if (redisBufferRead(context_) != REDIS_OK) fail("read");
}

Reply Connection::next_buffered() {
    void* reply = nullptr;
    if (redisReaderGetReply(context_->reader, &reply) != REDIS_OK) fail("protocol");
    return Reply(static_cast<redisReply*>(reply));
}

}  // namespace msg::redis
