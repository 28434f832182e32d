#include "core/rate_limiter.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace msg::core {

RateLimiter::RateLimiter(int limit, std::chrono::seconds window, const Clock& clock,
                         std::size_t max_keys)
    : limit_(limit),
      per_second_(static_cast<double>(limit) / static_cast<double>(window.count())),
      clock_(clock),
      max_keys_(std::max<std::size_t>(1, max_keys)) {}

void RateLimiter::refill(Bucket& b, Clock::time_point now) const {
    const double elapsed = std::chrono::duration<double>(now - b.updated).count();
    if (elapsed > 0) {
        b.tokens = std::min(limit_, b.tokens + elapsed * per_second_);
        b.updated = now;
    }
}

int RateLimiter::wait_for(const Bucket& b) const {
    if (b.tokens >= 1.0) return 0;
    return std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / per_second_)));
}

RateLimiter::Bucket& RateLimiter::bucket(const std::string& key, Clock::time_point now) {
    auto it = buckets_.find(key);
    if (it != buckets_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second.lru);  // most recent now
        refill(it->second, now);
        return it->second;
    }
    if (buckets_.size() >= max_keys_) {
        buckets_.erase(lru_.back());
        lru_.pop_back();
    }
    lru_.push_front(key);
    return buckets_.emplace(key, Bucket{limit_, now, lru_.begin()}).first->second;
}

int RateLimiter::acquire(const std::string& key) {
    const auto now = clock_.now();
    std::lock_guard lock(mutex_);
    Bucket& b = bucket(key, now);
    const int wait = wait_for(b);
    if (wait == 0) b.tokens -= 1.0;
    return wait;
}

int RateLimiter::peek(const std::string& key) {
    const auto now = clock_.now();
    std::lock_guard lock(mutex_);
    return wait_for(bucket(key, now));
}

void RateLimiter::refund(const std::string& key) {
    const auto now = clock_.now();
    std::lock_guard lock(mutex_);
    Bucket& b = bucket(key, now);
    b.tokens = std::min(limit_, b.tokens + 1.0);
}

std::size_t RateLimiter::keys() const {
    std::lock_guard lock(mutex_);
    return buckets_.size();
}

std::string rate_key_for_ip(const std::string& ip) {
    unsigned char v6[16];
    if (ip.find(':') == std::string::npos || inet_pton(AF_INET6, ip.c_str(), v6) != 1) return ip;
    const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(mapped, mapped + 12, v6)) {  // ::ffff:a.b.c.d is an IPv4 client
        char v4[16];
        std::snprintf(v4, sizeof v4, "%u.%u.%u.%u", v6[12], v6[13], v6[14], v6[15]);
        return v4;
    }
    char out[3 + 16 + 4];
    std::snprintf(out, sizeof out, "v6:%02x%02x%02x%02x%02x%02x%02x%02x/64", v6[0], v6[1], v6[2],
                  v6[3], v6[4], v6[5], v6[6], v6[7]);
    return out;
}

}  // namespace msg::core
