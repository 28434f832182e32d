#pragma once

#include <cstdint>
#include <vector>

namespace msg::loadgen {

/// The delivery oracle of one socket in one room: every message exactly once, in seq order.
/// `observe` classifies each delivered seq; after the run, `lost(expected)` counts the acked
/// seqs (1..expected) that never arrived.
class SeqOracle {
  public:
    enum class Verdict { in_order, duplicate, reordered };

    Verdict observe(std::int64_t seq) {
        const auto s = static_cast<std::size_t>(seq);
        if (seen_.size() <= s) seen_.resize(s * 2 + 1, false);
        if (seen_[s]) return Verdict::duplicate;
        seen_[s] = true;
        ++distinct_;
        if (seq < last_) return Verdict::reordered;
        last_ = seq;
        return Verdict::in_order;
    }
    std::int64_t distinct() const { return distinct_; }
    std::int64_t last() const { return last_; }
    /// The lowest seq in 1..expected not received (0: none): where a lost message was.
    std::int64_t first_missing(std::int64_t expected) const {
        for (std::int64_t s = 1; s <= expected; ++s) {
            const auto i = static_cast<std::size_t>(s);
            if (i >= seen_.size() || !seen_[i]) return s;
        }
        return 0;
    }
    /// Seqs 1..expected not received.
    std::int64_t lost(std::int64_t expected) const {
        std::int64_t missing = 0;
        for (std::int64_t s = 1; s <= expected; ++s) {
            if (static_cast<std::size_t>(s) >= seen_.size() ||
                !seen_[static_cast<std::size_t>(s)]) {
                ++missing;
            }
        }
        return missing;
    }

  private:
    std::vector<bool> seen_;
    std::int64_t last_ = 0;
    std::int64_t distinct_ = 0;
};

}  // namespace msg::loadgen
