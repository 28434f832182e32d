#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "histogram.hpp"

namespace msg::loadgen {

/// One run's results: printed, written as JSON and as a self-contained HTML page.
struct Report {
    std::string scenario;
    std::vector<std::pair<std::string, std::string>> parameters;
    double provision_seconds = 0;
    double connect_seconds = 0;
    std::int64_t connected = 0, connect_failed = 0, still_open = 0;
    double duration = 0;  // the measured window, s
    std::uint64_t sent = 0, acked = 0, delivered = 0, requests = 0;
    std::int64_t persisted = 0;  // highest acked seq summed over rooms
    std::int64_t lost = 0;
    std::uint64_t duplicated = 0, reordered = 0;
    Histogram deliver, ack, request;  // µs, sends/requests inside the window only
    std::map<std::string, std::uint64_t> errors;
    std::map<std::string, std::uint64_t> recoveries;  // --resilient: reconnects, resyncs
    std::vector<std::string> examples;
    std::vector<std::uint64_t> sends_per_s, deliveries_per_s, requests_per_s;  // from start
    long server_rss_kib = 0;
    double rss_per_connection_bytes = 0;
    double server_cpu_percent = 0;   // over the window; 100 = one core
    double db_cpu_percent = 0;       // PostgreSQL (--db-pid), same window
    double loadgen_cpu_percent = 0;  // this process, same window
};

void print_summary(const Report& r);
void write_json(const Report& r, const std::string& path);
void write_html(const Report& r, const std::string& path);

}  // namespace msg::loadgen
