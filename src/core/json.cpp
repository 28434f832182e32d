#include "core/json.hpp"

#include <boost/json/serialize.hpp>

#include "core/ws.hpp"

#include "core/text.hpp"

#include <boost/json/parse.hpp>
#include <charconv>
#include <cmath>

namespace msg::core {

namespace json = boost::json;

namespace {
/// Boost.JSON reads a number past the double range (`1e999`) as infinity, and serializes it as
/// text no JSON parser accepts: echoed in a relay it would break every recipient's parser.
bool all_finite(const json::value& v) {
    switch (v.kind()) {
        case json::kind::double_:
            return std::isfinite(v.get_double());
        case json::kind::array:
            for (const auto& item : v.get_array()) {
                if (!all_finite(item)) return false;
            }
            return true;
        case json::kind::object:
            for (const auto& [key, item] : v.get_object()) {
                if (!all_finite(item)) return false;
            }
            return true;
        default:
            return true;
    }
}
}  // namespace

Result<json::object> parse_object(std::string_view body) {
    boost::system::error_code ec;
    json::value v =
        json::parse(body, ec);  // depth ≤ 32 (the parser's default), so ≤ 32 frames here
    if (ec || !v.is_object() || !all_finite(v)) return invalid("invalid json");
    return std::move(v.as_object());
}

std::optional<std::int64_t> parse_id(std::string_view digits) {
    if (digits.empty() || digits.size() > 16) return std::nullopt;
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
    if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
    if (id < 1 || id > kMaxId) return std::nullopt;
    return id;
}

std::optional<std::int64_t> parse_id(const json::value& v) {
    if (v.is_int64()) {
        auto id = v.get_int64();
        if (id >= 1 && id <= kMaxId) return id;
    } else if (v.is_uint64()) {
        auto id = v.get_uint64();
        if (id >= 1 && id <= static_cast<std::uint64_t>(kMaxId))
            return static_cast<std::int64_t>(id);
    } else if (v.is_string()) {
        return parse_id(std::string_view(v.get_string()));
    }
    return std::nullopt;
}

std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

const json::value* BodyReader::find(std::string_view key) const {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->value().is_null()) return nullptr;
    return &it->value();
}

bool BodyReader::has(std::string_view key) const { return obj_.contains(key); }

void BodyReader::fail(std::string message) {
    if (!error_) error_ = invalid(std::move(message));
}

std::optional<std::string> BodyReader::string(std::string_view key, StringRule rule) {
    const json::value* v = find(key);
    if (v == nullptr) {
        if (rule.required) fail(std::string(key) + " is required");
        return std::nullopt;
    }
    if (!v->is_string()) {
        fail(std::string(key) + " must be a string");
        return std::nullopt;
    }
    std::string_view s = v->get_string();
    if (rule.trim) s = trim(s);
    if (rule.required && s.empty()) {
        fail(std::string(key) + " is required");
        return std::nullopt;
    }
    if (s.size() > rule.max_bytes) {
        fail(std::string(key) + " is too long");
        return std::nullopt;
    }
    return std::string(s);
}

std::optional<std::int64_t> BodyReader::id(std::string_view key, bool required) {
    const json::value* v = find(key);
    if (v == nullptr || (v->is_string() && v->get_string().empty())) {
        if (required) fail(std::string(key) + " is required");
        return std::nullopt;
    }
    auto id = parse_id(*v);
    if (!id) fail(std::string(key) + " must be an id");
    return id;
}

std::optional<bool> BodyReader::boolean(std::string_view key) {
    const json::value* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_bool()) {
        fail(std::string(key) + " must be a boolean");
        return std::nullopt;
    }
    return v->get_bool();
}

std::optional<std::int64_t> BodyReader::integer(std::string_view key, bool required) {
    const json::value* v = find(key);
    if (v == nullptr) {
        if (required) fail(std::string(key) + " is required");
        return std::nullopt;
    }
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        return static_cast<std::int64_t>(v->get_uint64());
    }
    fail(std::string(key) + " must be an integer");
    return std::nullopt;
}

std::optional<std::vector<std::int64_t>> BodyReader::ids(std::string_view key, ListRule rule) {
    const json::value* v = find(key);
    if (v == nullptr) {
        if (rule.required) fail(std::string(key) + " is required");
        return std::nullopt;
    }
    if (!v->is_array()) {
        fail(std::string(key) + " must be an array of ids");
        return std::nullopt;
    }
    const auto& arr = v->get_array();
    if (arr.size() > rule.max_items) {
        fail(std::string(key) + " has too many items");
        return std::nullopt;
    }
    std::vector<std::int64_t> out;
    out.reserve(arr.size());
    for (const auto& item : arr) {
        auto id = parse_id(item);
        if (!id) {
            fail(std::string(key) + " must be an array of ids");
            return std::nullopt;
        }
        out.push_back(*id);
    }
    if (rule.required && out.empty()) fail(std::string(key) + " is required");
    return out;
}

std::optional<std::vector<std::string>> BodyReader::strings(std::string_view key, ListRule rule,
                                                            StringRule item) {
    const json::value* v = find(key);
    if (v == nullptr) {
        if (rule.required) fail(std::string(key) + " is required");
        return std::nullopt;
    }
    if (!v->is_array()) {
        fail(std::string(key) + " must be an array of strings");
        return std::nullopt;
    }
    const auto& arr = v->get_array();
    if (arr.size() > rule.max_items) {
        fail(std::string(key) + " has too many items");
        return std::nullopt;
    }
    std::vector<std::string> out;
    out.reserve(arr.size());
    for (const auto& element : arr) {
        if (!element.is_string()) {
            fail(std::string(key) + " must be an array of strings");
            return std::nullopt;
        }
        std::string_view s = element.get_string();
        if (item.trim) s = trim(s);
        if (s.size() > item.max_bytes) {
            fail(std::string(key) + " has an item that is too long");
            return std::nullopt;
        }
        if (!s.empty()) out.emplace_back(s);
    }
    if (rule.required && out.empty()) fail(std::string(key) + " is required");
    return out;
}

Frame json_frame(const boost::json::value& v) {
    return std::make_shared<const std::string>(boost::json::serialize(v));
}

}  // namespace msg::core
