#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "core/task.hpp"

namespace msg::core {

/// A thread pool for blocking or CPU-heavy work (argon2, image decoding, index builds) so it
/// never runs on an I/O thread (STYLE rule 11).
class BlockingPool {
  public:
    /// `max_pending`: jobs queued or running past which try_run() refuses.
    explicit BlockingPool(std::size_t threads, std::size_t max_pending = SIZE_MAX);
    ~BlockingPool();
    BlockingPool(const BlockingPool&) = delete;
    BlockingPool& operator=(const BlockingPool&) = delete;

    /// Runs `work` on the pool, then resumes the caller on its own executor. An exception thrown
    /// by `work` is rethrown in the caller. The std::function is made here, in a plain function,
    /// not as a temporary of the caller's co_await expression (GCC 12 destroys those twice).
    template <class F>
    Task<void> run(F&& work) {
        return run_erased(std::function<void()>(std::forward<F>(work)));
    }

    /// As run(), but when `max_pending` jobs are already queued or running it returns false
    /// at once and `work` never runs: a flood is refused fast instead of queueing without end.
    template <class F>
    Task<bool> try_run(F&& work) {
        return try_run_erased(std::function<void()>(std::forward<F>(work)));
    }
    std::size_t pending() const;

    /// Waits for queued work and joins the threads.
    void stop();

  private:
    Task<void> run_erased(std::function<void()> work);
    Task<bool> try_run_erased(std::function<void()> work);

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace msg::core
