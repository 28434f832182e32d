#include "core/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace msg::core {

namespace {

/// `%*`: the message, JSON-escaped, so the JSON pattern below stays valid JSON.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        auto escaped = json_escape(std::string_view(msg.payload.data(), msg.payload.size()));
        dest.append(escaped.data(), escaped.data() + escaped.size());
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<JsonMessageFlag>();
    }
};

std::mutex g_mutex;
LogConfig g_config;
spdlog::sink_ptr g_sink;

std::unique_ptr<spdlog::formatter> make_formatter() {
    auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    if (g_config.format == "json") {
        f->add_flag<JsonMessageFlag>('*').set_pattern(
            R"({"timestamp":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","module":"%n","message":"%*"})");
    } else {
        f->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %n %v");
    }
    return f;
}

}  // namespace

std::string json_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 8);
    for (char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    static constexpr char kHex[] = "0123456789abcdef";
                    out += "\\u00";
                    out += kHex[(c >> 4) & 0xF];
                    out += kHex[c & 0xF];
                } else {
                    out += c;
                }
        }
    }
    return out;
}

void init_logging(const LogConfig& config) {
    std::lock_guard lock(g_mutex);
    g_config = config;
    g_sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    g_sink->set_formatter(make_formatter());
    spdlog::set_level(spdlog::level::from_str(config.level));
    spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) {
        l->sinks() = {g_sink};
        l->set_level(spdlog::get_level());
    });
}

std::shared_ptr<spdlog::logger> logger(const std::string& module) {
    std::lock_guard lock(g_mutex);
    if (auto l = spdlog::get(module)) return l;
    if (!g_sink) {
        g_sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
        g_sink->set_formatter(make_formatter());
    }
    auto l = std::make_shared<spdlog::logger>(module, g_sink);
    l->set_level(spdlog::get_level());
    l->flush_on(spdlog::level::warn);
    spdlog::register_logger(l);
    return l;
}

}  // namespace msg::core
