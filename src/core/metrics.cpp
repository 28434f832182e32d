#include "core/metrics.hpp"

#include <cstdio>

namespace msg::core {

void Metrics::observe_http(std::string_view route, std::string_view method, unsigned status,
                           double seconds) {
    std::lock_guard lock(mutex_);
    auto key = std::make_tuple(std::string(route), std::string(method), status);
    auto it = http_.find(key);
    if (it == http_.end()) it = http_.emplace(std::move(key), Series{}).first;
    Series& s = it->second;
    ++s.count;
    s.sum += seconds;
    for (std::size_t i = 0; i < std::size(kBuckets); ++i) {
        if (seconds <= kBuckets[i]) ++s.buckets[i];
    }
}

Counter& Metrics::counter(const std::string& name, const std::string& help) {
    std::lock_guard lock(mutex_);
    for (auto& c : counters_) {
        if (c.name == name) return *c.counter;
    }
    counters_.push_back({name, help, std::make_unique<Counter>()});
    return *counters_.back().counter;
}

void Metrics::add_gauge(const std::string& name, const std::string& help,
                        std::function<double()> read) {
    std::lock_guard lock(mutex_);
    gauges_.push_back({name, help, std::move(read)});
}

void Metrics::add_counter_family(const std::string& name, const std::string& help,
                                 std::string label, std::function<LabelledValues()> read) {
    std::lock_guard lock(mutex_);
    families_.push_back({name, help, std::move(label), std::move(read)});
}

namespace {
std::string number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}
}  // namespace

std::string Metrics::render() const {
    std::lock_guard lock(mutex_);
    std::string out;
    out += "# HELP msg_http_requests_total HTTP requests by route, method and status.\n";
    out += "# TYPE msg_http_requests_total counter\n";
    for (const auto& [key, s] : http_) {
        const auto& [route, method, status] = key;
        out.append("msg_http_requests_total{route=\"").append(route);
        out.append("\",method=\"").append(method);
        out.append("\",status=\"").append(std::to_string(status));
        out.append("\"} ").append(std::to_string(s.count)).append("\n");
    }
    out += "# HELP msg_http_request_duration_seconds HTTP request latency.\n";
    out += "# TYPE msg_http_request_duration_seconds histogram\n";
    for (const auto& [key, s] : http_) {
        const auto& [route, method, status] = key;
        std::string labels = "route=\"";
        labels.append(route).append("\",method=\"").append(method);
        labels.append("\",status=\"").append(std::to_string(status)).append("\"");
        for (std::size_t i = 0; i < std::size(kBuckets); ++i) {
            out += "msg_http_request_duration_seconds_bucket{" + labels + ",le=\"" +
                   number(kBuckets[i]) + "\"} " + std::to_string(s.buckets[i]) + "\n";
        }
        out += "msg_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
               std::to_string(s.count) + "\n";
        out += "msg_http_request_duration_seconds_sum{" + labels + "} " + number(s.sum) + "\n";
        out += "msg_http_request_duration_seconds_count{" + labels + "} " +
               std::to_string(s.count) + "\n";
    }
    for (const auto& c : counters_) {
        out += "# HELP " + c.name + " " + c.help + "\n# TYPE " + c.name + " counter\n";
        out += c.name + " " + std::to_string(c.counter->value()) + "\n";
    }
    for (const auto& g : gauges_) {
        out += "# HELP " + g.name + " " + g.help + "\n# TYPE " + g.name + " gauge\n";
        out += g.name + " " + number(g.read()) + "\n";
    }
    for (const auto& f : families_) {
        out += "# HELP " + f.name + " " + f.help + "\n# TYPE " + f.name + " counter\n";
        for (const auto& [value, count] : f.read()) {
            out += f.name + "{" + f.label + "=\"" + value + "\"} " + std::to_string(count) + "\n";
        }
    }
    return out;
}

}  // namespace msg::core
