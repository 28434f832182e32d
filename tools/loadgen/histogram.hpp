#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

namespace msg::loadgen {

/// Latency histogram in microseconds with log-linear buckets (HDR style): exact below 64 µs,
/// then 32 buckets per power of two (≤ 3.2 % relative error) up to ~2^40 µs. Not thread-safe:
/// one per thread, merged at the end.
class Histogram {
  public:
    Histogram() : counts_(kBuckets, 0) {}

    void record(std::uint64_t micros) {
        ++counts_[index(micros)];
        ++count_;
        max_ = std::max(max_, micros);
        sum_ += micros;
    }
    void merge(const Histogram& o) {
        for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
        count_ += o.count_;
        max_ = std::max(max_, o.max_);
        sum_ += o.sum_;
    }
    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return max_; }
    double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }

    /// The value at quantile q (0..1): the upper edge of the bucket holding it, capped by max.
    std::uint64_t quantile(double q) const {
        if (count_ == 0) return 0;
        const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_ - 1)) + 1;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            seen += counts_[i];
            if (seen >= rank) return std::min(upper(i), max_);
        }
        return max_;
    }

    /// Non-empty buckets as (lower edge µs, count), for reports.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> buckets() const {
        std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            if (counts_[i]) out.emplace_back(lower(i), counts_[i]);
        }
        return out;
    }

    static std::size_t index(std::uint64_t v) {
        if (v < 64) return static_cast<std::size_t>(v);
        const int msb = 63 - std::countl_zero(v);  // ≥ 6
        const int shift = msb - 5;                 // v >> shift in [32, 64)
        const std::size_t i = 64 + static_cast<std::size_t>(shift - 1) * 32 +
                              static_cast<std::size_t>((v >> shift) - 32);
        return std::min(i, kBuckets - 1);
    }
    static std::uint64_t lower(std::size_t i) {
        if (i < 64) return i;
        const std::size_t shift = (i - 64) / 32 + 1;
        return (32 + (i - 64) % 32) << shift;
    }
    static std::uint64_t upper(std::size_t i) {
        if (i < 64) return i;
        const std::size_t shift = (i - 64) / 32 + 1;
        return ((33 + (i - 64) % 32) << shift) - 1;
    }

  private:
    static constexpr std::size_t kBuckets = 64 + 35 * 32;
    std::vector<std::uint64_t> counts_;
    std::uint64_t count_ = 0;
    std::uint64_t max_ = 0;
    std::uint64_t sum_ = 0;
};

}  // namespace msg::loadgen
