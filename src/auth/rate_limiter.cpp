#include "auth/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace msg::auth {

RateLimiter::RateLimiter(int limit, std::chrono::seconds window, const core::Clock& clock,
                         std::size_t max_keys)
    : limit_(limit),
      per_second_(static_cast<double>(limit) / static_cast<double>(window.count())),
      clock_(clock),
      max_keys_(max_keys) {}

void RateLimiter::refill(Bucket& b, core::Clock::time_point now) const {
    const double elapsed = std::chrono::duration<double>(now - b.updated).count();
    if (elapsed > 0) {
        b.tokens = std::min(limit_, b.tokens + elapsed * per_second_);
        b.updated = now;
    }
}

int RateLimiter::acquire(const std::string& key) {
    const auto now = clock_.now();
    std::lock_guard lock(mutex_);
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
        if (buckets_.size() >= max_keys_) {
            for (auto b = buckets_.begin(); b != buckets_.end();) {
                refill(b->second, now);
                b = b->second.tokens >= limit_ ? buckets_.erase(b) : std::next(b);
            }
            if (buckets_.size() >= max_keys_) buckets_.clear();
        }
        it = buckets_.emplace(key, Bucket{limit_, now}).first;
    }
    Bucket& b = it->second;
    refill(b, now);
    if (b.tokens >= 1.0) {
        b.tokens -= 1.0;
        return 0;
    }
    return std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / per_second_)));
}

}  // namespace msg::auth
