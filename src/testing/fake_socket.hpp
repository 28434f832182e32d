#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "core/ws.hpp"

namespace msg::testing {

/// A WsConnection that records what a hub sends it and how it was closed.
class FakeSocket final : public core::WsConnection {
  public:
    explicit FakeSocket(std::uint64_t id) : id_(id) {}
    void send(core::Frame frame) override {
        std::lock_guard lock(mutex_);
        frames_.push_back(*frame);
    }
    void close(unsigned short code, std::string) override {
        std::lock_guard lock(mutex_);
        close_code_ = code;
    }
    std::uint64_t id() const override { return id_; }
    std::vector<std::string> frames() {
        std::lock_guard lock(mutex_);
        return frames_;
    }
    unsigned short close_code() {
        std::lock_guard lock(mutex_);
        return close_code_;
    }

  private:
    std::uint64_t id_;
    std::mutex mutex_;
    std::vector<std::string> frames_;
    unsigned short close_code_ = 0;  // 0: not closed
};

}  // namespace msg::testing
