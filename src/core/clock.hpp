#pragma once

#include <atomic>
#include <chrono>

namespace msg::core {

/// Time source seam: the system clock in production, a manual clock in tests. Timers that
/// fire later go through core::Timers (core/timers.hpp), which a test drives with this clock.
class Clock {
  public:
    using time_point = std::chrono::system_clock::time_point;
    using steady_point = std::chrono::steady_clock::time_point;
    virtual ~Clock() = default;
    /// Wall time (timestamps, token expiry).
    virtual time_point now() const = 0;
    /// Monotonic time for intervals and deadlines: never jumps with the wall clock.
    virtual steady_point steady_now() const = 0;
};

class SystemClock final : public Clock {
  public:
    time_point now() const override { return std::chrono::system_clock::now(); }
    steady_point steady_now() const override { return std::chrono::steady_clock::now(); }
};

class ManualClock final : public Clock {
  public:
    explicit ManualClock(time_point start = time_point{std::chrono::seconds(1'700'000'000)})
        : now_(start.time_since_epoch().count()) {}
    time_point now() const override { return time_point{time_point::duration{now_.load()}}; }
    /// Starts at the same count as now(); both move only with advance().
    steady_point steady_now() const override {
        return steady_point{
            std::chrono::duration_cast<steady_point::duration>(time_point::duration{now_.load()})};
    }
    void advance(std::chrono::nanoseconds d) {
        now_ += std::chrono::duration_cast<time_point::duration>(d).count();
    }

  private:
    std::atomic<time_point::rep> now_;
};

}  // namespace msg::core
