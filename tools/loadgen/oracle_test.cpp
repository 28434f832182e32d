#include <gtest/gtest.h>

#include "histogram.hpp"
#include "oracle.hpp"

namespace msg::loadgen {
namespace {

using V = SeqOracle::Verdict;

TEST(SeqOracle, InOrderStreamIsClean) {
    SeqOracle o;
    for (int s = 1; s <= 100; ++s) EXPECT_EQ(o.observe(s), V::in_order);
    EXPECT_EQ(o.distinct(), 100);
    EXPECT_EQ(o.lost(100), 0);
}

TEST(SeqOracle, FindsDuplicatesReorderingAndLosses) {
    SeqOracle o;
    EXPECT_EQ(o.observe(1), V::in_order);
    EXPECT_EQ(o.observe(3), V::in_order);  // a gap, for now
    EXPECT_EQ(o.observe(2), V::reordered);
    EXPECT_EQ(o.observe(3), V::duplicate);
    EXPECT_EQ(o.observe(5), V::in_order);
    EXPECT_EQ(o.distinct(), 4);
    EXPECT_EQ(o.lost(6), 2);  // 4 and 6 never came
}

TEST(Histogram, QuantilesWithinBucketPrecision) {
    Histogram h;
    for (std::uint64_t v = 1; v <= 10000; ++v) h.record(v);
    EXPECT_EQ(h.count(), 10000u);
    EXPECT_EQ(h.max(), 10000u);
    auto near = [](std::uint64_t got, double want) {
        return std::abs(static_cast<double>(got) - want) <= want * 0.04;
    };
    EXPECT_TRUE(near(h.quantile(0.5), 5000)) << h.quantile(0.5);
    EXPECT_TRUE(near(h.quantile(0.99), 9900)) << h.quantile(0.99);
    EXPECT_EQ(h.quantile(1.0), 10000u);
    EXPECT_EQ(h.quantile(0.0), 1u);
    for (std::uint64_t v : {0ull, 63ull, 64ull, 1000ull, 123456789ull}) {
        const auto i = Histogram::index(v);
        EXPECT_LE(Histogram::lower(i), v);
        EXPECT_GE(Histogram::upper(i), v);
    }
}

}  // namespace
}  // namespace msg::loadgen
