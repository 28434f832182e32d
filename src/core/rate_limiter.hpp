#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"

namespace msg::core {

/// Token bucket per key: `limit` requests per `window`, refilled continuously. Thread-safe.
/// The key table is bounded: past `max_keys` the least recently used key is forgotten (its
/// bucket starts full again), so a flood of new keys never clears the busy ones' state.
class RateLimiter {
  public:
    RateLimiter(int limit, std::chrono::seconds window, const Clock& clock,
                std::size_t max_keys = 100'000);

    /// 0 when allowed (and a token is taken); otherwise the seconds until one is available.
    int acquire(const std::string& key);
    /// The same answer without taking a token: for limits that count failures, checked before
    /// the attempt and charged (acquire) only when it fails.
    int peek(const std::string& key);
    /// Gives back a token taken by acquire (a limit that counts failures: taken before the
    /// attempt, so parallel attempts cannot all pass a peek, and refunded when it succeeds).
    void refund(const std::string& key);

    std::size_t keys() const;

  private:
    struct Bucket {
        double tokens;
        Clock::time_point updated;
        std::list<std::string>::iterator lru;  // position in lru_ (front: most recent)
    };
    Bucket& bucket(const std::string& key, Clock::time_point now);  // mutex_ held
    void refill(Bucket& b, Clock::time_point now) const;
    int wait_for(const Bucket& b) const;

    double limit_;
    double per_second_;
    const Clock& clock_;
    std::size_t max_keys_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Bucket> buckets_;
    std::list<std::string> lru_;
};

/// The key an address is limited by: IPv4 as it is, IPv6 by its /64 (one subscriber's
/// network: a client rotating through its prefix is still one client).
std::string rate_key_for_ip(const std::string& ip);

}  // namespace msg::core
