#include "data/remote.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

namespace msg::data {

namespace {

using core::ErrorCode;

/// Each code's wire name and status (the statuses of transport/error_response.cpp).
struct CodeInfo {
    ErrorCode code;
    std::string_view name;
    unsigned status;
};
constexpr std::array<CodeInfo, 8> kCodes = {{
    {ErrorCode::invalid_argument, "invalid_argument", 400},
    {ErrorCode::unauthorized, "unauthorized", 401},
    {ErrorCode::forbidden, "forbidden", 403},
    {ErrorCode::not_found, "not_found", 404},
    {ErrorCode::conflict, "conflict", 409},
    {ErrorCode::payload_too_large, "payload_too_large", 413},
    {ErrorCode::too_many_requests, "too_many_requests", 429},
    {ErrorCode::unavailable, "unavailable", 503},
}};

const CodeInfo& info(ErrorCode code) {
    for (const auto& c : kCodes) {
        if (c.code == code) return c;
    }
    return kCodes[0];
}

}  // namespace

void Registry::add(OpEntry entry) {
    std::string name(entry.name);
    if (!entries_.emplace(name, entry).second) {
        throw std::logic_error("data operation registered twice: " + name);
    }
}

const OpEntry* Registry::find(std::string_view name) const {
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::string_view> Registry::names() const {
    std::vector<std::string_view> out;
    out.reserve(entries_.size());
    for (const auto& [name, entry] : entries_) out.push_back(entry.name);
    return out;
}

unsigned status_of(ErrorCode code) { return info(code).status; }

std::string encode_error(const core::Error& e) {
    const std::string_view code = info(e.code).name;
    return boost::json::serialize(boost::json::object{
        {"error", e.message}, {"code", code}, {"retry_after", e.retry_after_seconds}});
}

std::optional<core::Error> decode_error(std::string_view body) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    const auto* message = o.if_contains("error");
    const auto* code = o.if_contains("code");
    const auto* retry = o.if_contains("retry_after");
    if (message == nullptr || !message->is_string() || code == nullptr || !code->is_string()) {
        return std::nullopt;
    }
    for (const auto& c : kCodes) {
        if (code->get_string() != c.name) continue;
        core::Error e{c.code, std::string(message->get_string()), 0};
        if (retry != nullptr && retry->is_int64()) {
            e.retry_after_seconds =
                static_cast<int>(std::clamp<std::int64_t>(retry->get_int64(), 0, 3600));
        }
        return e;
    }
    return std::nullopt;
}

}  // namespace msg::data
