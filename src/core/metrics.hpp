#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace msg::core {

/// A monotonically increasing counter, cheap enough for hot paths.
class Counter {
  public:
    void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> value_{0};
};

/// Process metrics rendered as Prometheus text at GET /metrics.
class Metrics {
  public:
    /// One finished HTTP request: route pattern (not the raw path), method, status, latency.
    void observe_http(std::string_view route, std::string_view method, unsigned status,
                      double seconds);
    /// A named counter (created on first use; the reference stays valid).
    Counter& counter(const std::string& name, const std::string& help);
    /// A gauge read when /metrics is rendered (pool usage, connections…).
    void add_gauge(const std::string& name, const std::string& help, std::function<double()> read);
    /// Counters kept elsewhere, one series per value of `label`, read when /metrics is
    /// rendered: `read` returns (label value, count) pairs (values without quotes or
    /// backslashes). No pair, no series.
    using LabelledValues = std::vector<std::pair<std::string, std::uint64_t>>;
    void add_counter_family(const std::string& name, const std::string& help, std::string label,
                            std::function<LabelledValues()> read);

    std::string render() const;

    static constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,    0.25,  0.5,    1,     2.5,  5};

  private:
    struct Series {
        std::uint64_t count = 0;
        double sum = 0;
        std::uint64_t buckets[std::size(kBuckets)] = {};
    };
    struct Gauge {
        std::string name, help;
        std::function<double()> read;
    };
    struct Family {
        std::string name, help, label;
        std::function<LabelledValues()> read;
    };
    struct NamedCounter {
        std::string name, help;
        std::unique_ptr<Counter> counter;
    };

    mutable std::mutex mutex_;
    std::map<std::tuple<std::string, std::string, unsigned>, Series, std::less<>> http_;
    std::vector<Gauge> gauges_;
    std::vector<NamedCounter> counters_;
    std::vector<Family> families_;
};

}  // namespace msg::core
