#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <utility>

#include "core/clock.hpp"

namespace boost::asio {
class io_context;
}

namespace msg::core {

/// Timer seam: `fn` runs once, `delay` from now. Production: a steady timer on an io_context
/// (AsioTimers); tests: ManualTimers, which runs what is due when the test advances its
/// ManualClock, so a timing rule is tested without sleeping on a noisy machine.
class Timers {
  public:
    using Duration = std::chrono::steady_clock::duration;
    virtual ~Timers() = default;
    virtual void after(Duration delay, std::function<void()> fn) = 0;
};

/// Timers on an io_context's steady timers: `fn` runs on that context's thread. A timer still
/// pending when the context stops never runs.
class AsioTimers final : public Timers {
  public:
    explicit AsioTimers(boost::asio::io_context& io) : io_(io) {}
    void after(Duration delay, std::function<void()> fn) override;

  private:
    boost::asio::io_context& io_;
};

/// Timers for tests: nothing runs until advance().
class ManualTimers final : public Timers {
  public:
    explicit ManualTimers(ManualClock& clock) : clock_(clock) {}

    void after(Duration delay, std::function<void()> fn) override {
        std::lock_guard lock(mutex_);
        due_.emplace(clock_.steady_now() + delay, std::move(fn));
    }

    /// Moves the clock forward by `d`, running each timer that falls due on the way at its due
    /// time, in due order (timers armed by a callback included).
    void advance(std::chrono::nanoseconds d) {
        const auto until = clock_.steady_now() + d;
        for (;;) {
            std::function<void()> fn;
            {
                std::lock_guard lock(mutex_);
                if (due_.empty() || due_.begin()->first > until) break;
                const auto at = due_.begin()->first;
                if (at > clock_.steady_now()) clock_.advance(at - clock_.steady_now());
                fn = std::move(due_.begin()->second);
                due_.erase(due_.begin());
            }
            fn();
        }
        if (until > clock_.steady_now()) clock_.advance(until - clock_.steady_now());
    }

    std::size_t pending() const {
        std::lock_guard lock(mutex_);
        return due_.size();
    }

  private:
    ManualClock& clock_;
    mutable std::mutex mutex_;
    std::multimap<Clock::steady_point, std::function<void()>> due_;
};

}  // namespace msg::core
