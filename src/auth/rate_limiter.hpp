#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"

namespace msg::auth {

/// Token bucket per key: `limit` requests per `window`, refilled continuously. Thread-safe.
/// The key table is bounded: when it reaches `max_keys`, keys whose bucket is full again are
/// dropped, and if none are, the table is cleared (fail open rather than grow without bound).
class RateLimiter {
  public:
    RateLimiter(int limit, std::chrono::seconds window, const core::Clock& clock,
                std::size_t max_keys = 100'000);

    /// 0 when allowed (and a token is taken); otherwise the seconds until one is available.
    int acquire(const std::string& key);

  private:
    struct Bucket {
        double tokens;
        core::Clock::time_point updated;
    };
    void refill(Bucket& b, core::Clock::time_point now) const;

    double limit_;
    double per_second_;
    const core::Clock& clock_;
    std::size_t max_keys_;
    std::mutex mutex_;
    std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace msg::auth
