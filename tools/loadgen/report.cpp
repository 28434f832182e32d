#include "report.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace msg::loadgen {

namespace json = boost::json;

namespace {

double ms(std::uint64_t micros) { return static_cast<double>(micros) / 1000.0; }

json::object latency(const Histogram& h) {
    return json::object{{"count", h.count()},
                        {"p50_ms", ms(h.quantile(0.50))},
                        {"p90_ms", ms(h.quantile(0.90))},
                        {"p99_ms", ms(h.quantile(0.99))},
                        {"p999_ms", ms(h.quantile(0.999))},
                        {"max_ms", ms(h.max())},
                        {"mean_ms", h.mean() / 1000.0}};
}

void print_latency(const char* name, const Histogram& h) {
    if (h.count() == 0) return;
    std::printf("  %-16s p50 %.2f ms  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  (n=%llu)\n", name,
                ms(h.quantile(0.5)), ms(h.quantile(0.9)), ms(h.quantile(0.99)),
                ms(h.quantile(0.999)), ms(h.max()), static_cast<unsigned long long>(h.count()));
}

double per_second(const Report& r, std::uint64_t n) {
    return r.duration > 0 ? static_cast<double>(n) / r.duration : 0.0;
}

std::string escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '<')
            out += "&lt;";
        else if (c == '>')
            out += "&gt;";
        else if (c == '&')
            out += "&amp;";
        else
            out += c;
    }
    return out;
}

/// A bar chart as inline SVG: one bar per value.
std::string bars(const std::vector<std::pair<std::string, double>>& values, const char* color) {
    const int w = 760, h = 220, pad = 40;
    double top = 1;
    for (const auto& [label, v] : values) top = std::max(top, v);
    std::string svg = "<svg width='" + std::to_string(w) + "' height='" + std::to_string(h + 40) +
                      "' xmlns='http://www.w3.org/2000/svg' font-size='10'>";
    const double bw = values.empty() ? 0 : static_cast<double>(w - pad) / values.size();
    for (std::size_t i = 0; i < values.size(); ++i) {
        const double bh = values[i].second / top * h;
        char rect[256];
        std::snprintf(rect, sizeof rect,
                      "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'>"
                      "<title>%s: %.0f</title></rect>",
                      pad + i * bw, h - bh, std::max(1.0, bw - 1), bh, color,
                      values[i].first.c_str(), values[i].second);
        svg += rect;
        if (values.size() <= 40 || i % (values.size() / 20 + 1) == 0) {
            char label[160];
            std::snprintf(label, sizeof label,
                          "<text x='%.1f' y='%d' transform='rotate(45 %.1f %d)'>%s</text>",
                          pad + i * bw, h + 12, pad + i * bw, h + 12, values[i].first.c_str());
            svg += label;
        }
    }
    char axis[128];
    std::snprintf(axis, sizeof axis, "<text x='0' y='10'>%.0f</text><text x='0' y='%d'>0</text>",
                  top, h);
    svg += axis;
    return svg + "</svg>";
}

std::vector<std::pair<std::string, double>> series(const std::vector<std::uint64_t>& per_s) {
    std::vector<std::pair<std::string, double>> out;
    for (std::size_t i = 0; i < per_s.size(); ++i) {
        out.emplace_back(std::to_string(i) + "s", static_cast<double>(per_s[i]));
    }
    return out;
}

std::vector<std::pair<std::string, double>> histogram_bars(const Histogram& h) {
    std::vector<std::pair<std::string, double>> out;
    for (const auto& [lower, count] : h.buckets()) {
        char label[32];
        std::snprintf(label, sizeof label, "%.2fms", ms(lower));
        out.emplace_back(label, static_cast<double>(count));
    }
    return out;
}

}  // namespace

void print_summary(const Report& r) {
    std::printf("== %s:", r.scenario.c_str());
    for (const auto& [k, v] : r.parameters) std::printf(" %s=%s", k.c_str(), v.c_str());
    std::printf("\n");
    if (r.scenario == "fanout") {
        std::printf("  sent %llu, acked %llu, persisted (max seq over rooms) %lld\n",
                    static_cast<unsigned long long>(r.sent),
                    static_cast<unsigned long long>(r.acked), static_cast<long long>(r.persisted));
        std::printf("  window %.1f s: %.0f persisted msgs/s, %.0f deliveries/s\n", r.duration,
                    per_second(r, r.ack.count()), per_second(r, r.deliver.count()));
        print_latency("send->ack", r.ack);
        print_latency("send->deliver", r.deliver);
        std::printf("  oracle: lost %lld, duplicated %llu, reordered %llu\n",
                    static_cast<long long>(r.lost), static_cast<unsigned long long>(r.duplicated),
                    static_cast<unsigned long long>(r.reordered));
    } else if (r.scenario == "connections") {
        std::printf("  connected %lld (failed %lld), still open after the hold: %lld\n",
                    static_cast<long long>(r.connected), static_cast<long long>(r.connect_failed),
                    static_cast<long long>(r.still_open));
    } else {
        std::printf("  window %.1f s: %.0f req/s\n", r.duration, per_second(r, r.request.count()));
        print_latency("request", r.request);
    }
    if (r.connected > 0) {
        std::printf("  connect: %.0f sockets/s\n", r.connected / std::max(r.connect_seconds, 1e-9));
    }
    if (r.server_rss_kib > 0) {
        std::printf("  server: RSS %.1f MiB, CPU %.0f%%", r.server_rss_kib / 1024.0,
                    r.server_cpu_percent);
        if (r.rss_per_connection_bytes > 0) {
            std::printf(", %.0f bytes RSS per connection", r.rss_per_connection_bytes);
        }
        std::printf("\n");
    }
    if (r.duration > 0) {
        std::printf(
            "  CPU in the window (100%% = one core): server %.0f%%, postgres %.0f%%,"
            " loadgen %.0f%%\n",
            r.server_cpu_percent, r.db_cpu_percent, r.loadgen_cpu_percent);
    }
    for (const auto& [kind, n] : r.errors) {
        std::printf("  error %s: %llu\n", kind.c_str(), static_cast<unsigned long long>(n));
    }
    for (const auto& [kind, n] : r.recoveries) {
        std::printf("  recovery %s: %llu\n", kind.c_str(), static_cast<unsigned long long>(n));
    }
    for (const auto& e : r.examples) std::printf("  violation %s\n", e.c_str());
}

void write_json(const Report& r, const std::string& path) {
    json::object params;
    for (const auto& [k, v] : r.parameters) params[k] = v;
    json::object errors;
    for (const auto& [k, v] : r.errors) errors[k] = v;
    json::object recoveries;
    for (const auto& [k, v] : r.recoveries) recoveries[k] = v;
    json::array examples;
    for (const auto& e : r.examples) examples.emplace_back(e);
    auto arr = [](const std::vector<std::uint64_t>& v) {
        json::array a;
        for (auto x : v) a.emplace_back(x);
        return a;
    };
    json::object out{
        {"scenario", r.scenario},
        {"parameters", std::move(params)},
        {"provision_seconds", r.provision_seconds},
        {"connect_seconds", r.connect_seconds},
        {"connected", r.connected},
        {"connect_failed", r.connect_failed},
        {"still_open", r.still_open},
        {"window_seconds", r.duration},
        {"sent", r.sent},
        {"acked", r.acked},
        {"persisted", r.persisted},
        {"persisted_per_s", per_second(r, r.ack.count())},
        {"deliveries_per_s", per_second(r, r.deliver.count())},
        {"requests_per_s", per_second(r, r.request.count())},
        {"send_to_ack", latency(r.ack)},
        {"send_to_deliver", latency(r.deliver)},
        {"request", latency(r.request)},
        {"oracle", json::object{{"lost", r.lost},
                                {"duplicated", r.duplicated},
                                {"reordered", r.reordered},
                                {"examples", std::move(examples)}}},
        {"errors", std::move(errors)},
        {"recoveries", std::move(recoveries)},
        {"server", json::object{{"rss_kib", r.server_rss_kib},
                                {"rss_per_connection_bytes", r.rss_per_connection_bytes},
                                {"cpu_percent", r.server_cpu_percent}}},
        {"cpu_percent", json::object{{"server", r.server_cpu_percent},
                                     {"postgres", r.db_cpu_percent},
                                     {"loadgen", r.loadgen_cpu_percent}}},
        {"timeline", json::object{{"sends_per_s", arr(r.sends_per_s)},
                                  {"deliveries_per_s", arr(r.deliveries_per_s)},
                                  {"requests_per_s", arr(r.requests_per_s)}}},
    };
    std::ofstream f(path);
    if (!f) throw std::runtime_error("cannot write " + path);
    f << json::serialize(out) << "\n";
}

void write_html(const Report& r, const std::string& path) {
    std::ofstream f(path);
    if (!f) throw std::runtime_error("cannot write " + path);
    f << "<!doctype html><html><head><meta charset='utf-8'><title>msg_loadgen " << r.scenario
      << "</title><style>body{font-family:sans-serif;margin:2em;max-width:820px}"
         "td,th{padding:2px 10px;text-align:left}</style></head><body>";
    f << "<h1>msg_loadgen: " << escape(r.scenario) << "</h1><table>";
    for (const auto& [k, v] : r.parameters)
        f << "<tr><th>" << escape(k) << "</th><td>" << escape(v) << "</td></tr>";
    f << "</table><h2>Results</h2><table>";
    auto row = [&f](const std::string& k, const std::string& v) {
        f << "<tr><th>" << escape(k) << "</th><td>" << escape(v) << "</td></tr>";
    };
    char buf[160];
    auto lat = [&](const char* name, const Histogram& h) {
        if (h.count() == 0) return;
        std::snprintf(buf, sizeof buf, "p50 %.2f / p90 %.2f / p99 %.2f / p99.9 %.2f / max %.2f ms",
                      ms(h.quantile(0.5)), ms(h.quantile(0.9)), ms(h.quantile(0.99)),
                      ms(h.quantile(0.999)), ms(h.max()));
        row(name, buf);
    };
    if (r.scenario == "fanout") {
        std::snprintf(buf, sizeof buf, "%.0f", per_second(r, r.ack.count()));
        row("persisted msgs/s", buf);
        std::snprintf(buf, sizeof buf, "%.0f", per_second(r, r.deliver.count()));
        row("deliveries/s", buf);
        lat("send → ack", r.ack);
        lat("send → deliver", r.deliver);
        std::snprintf(buf, sizeof buf, "lost %lld, duplicated %llu, reordered %llu",
                      static_cast<long long>(r.lost), static_cast<unsigned long long>(r.duplicated),
                      static_cast<unsigned long long>(r.reordered));
        row("oracle", buf);
    }
    if (r.scenario == "history") {
        std::snprintf(buf, sizeof buf, "%.0f", per_second(r, r.request.count()));
        row("requests/s", buf);
        lat("request", r.request);
    }
    if (r.connected > 0) {
        std::snprintf(buf, sizeof buf, "%lld in %.2f s", static_cast<long long>(r.connected),
                      r.connect_seconds);
        row("sockets connected", buf);
    }
    if (r.server_rss_kib > 0) {
        std::snprintf(buf, sizeof buf, "RSS %.1f MiB, CPU %.0f%%, %.0f B/connection",
                      r.server_rss_kib / 1024.0, r.server_cpu_percent, r.rss_per_connection_bytes);
        row("server", buf);
    }
    for (const auto& [k, v] : r.errors) row("error: " + k, std::to_string(v));
    for (const auto& [k, v] : r.recoveries) row("recovery: " + k, std::to_string(v));
    f << "</table>";
    const Histogram& h = r.scenario == "history" ? r.request : r.deliver;
    if (h.count() > 0) {
        f << "<h2>Latency histogram (" << (r.scenario == "history" ? "request" : "send → deliver")
          << ")</h2>" << bars(histogram_bars(h), "#4a7");
    }
    const auto& timeline = r.scenario == "history" ? r.requests_per_s : r.deliveries_per_s;
    if (!timeline.empty()) {
        f << "<h2>Throughput over time (" << (r.scenario == "history" ? "requests" : "deliveries")
          << " per second, measured window)</h2>" << bars(series(timeline), "#47a");
    }
    if (!r.sends_per_s.empty()) {
        f << "<h2>Sends per second</h2>" << bars(series(r.sends_per_s), "#a74");
    }
    f << "</body></html>\n";
}

}  // namespace msg::loadgen
