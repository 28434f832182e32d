#pragma once

#include <atomic>
#include <cstddef>
#include <string>

#include "core/task.hpp"

namespace boost::asio {
class io_context;
}

namespace msg::core {

/// The background coroutines a component owns (relay, flusher, presence sync and beats):
/// spawned on one io_context and counted until each ends, so a shutdown can stop them and
/// wait until running() is 0 instead of abandoning detached work mid-write. An exception
/// that escapes a task is logged with the group's name.
class TaskGroup {
  public:
    TaskGroup(boost::asio::io_context& io, std::string name) : io_(io), name_(std::move(name)) {}
    TaskGroup(const TaskGroup&) = delete;
    TaskGroup& operator=(const TaskGroup&) = delete;

    void spawn(Task<void> task);
    std::size_t running() const { return running_.load(); }

  private:
    boost::asio::io_context& io_;
    std::string name_;
    std::atomic<std::size_t> running_{0};
};

}  // namespace msg::core
