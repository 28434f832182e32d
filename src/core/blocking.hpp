#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "core/task.hpp"

namespace msg::core {

/// A thread pool for blocking or CPU-heavy work (argon2, image decoding, index builds) so it
/// never runs on an I/O thread (STYLE rule 11).
class BlockingPool {
public:
    explicit BlockingPool(std::size_t threads);
    ~BlockingPool();
    BlockingPool(const BlockingPool&) = delete;
    BlockingPool& operator=(const BlockingPool&) = delete;

    /// Runs `work` on the pool, then resumes the caller on its own executor. An exception thrown
    /// by `work` is rethrown in the caller.
    Task<void> run(std::function<void()> work);

    /// Waits for queued work and joins the threads.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace msg::core
