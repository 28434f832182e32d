#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace msg::core {

/// Largest ID we hand out: IDs are JSON numbers and must survive a JavaScript double.
inline constexpr std::int64_t kMaxId = (std::int64_t{1} << 53) - 1;

/// Parses a request body that must be one JSON object ("invalid json" otherwise). The parser
/// rejects invalid UTF-8, so every string taken from the object is valid UTF-8.
Result<boost::json::object> parse_object(std::string_view body);

/// Parses an ID given as a JSON number or a string of digits, 1..kMaxId.
std::optional<std::int64_t> parse_id(const boost::json::value& v);
std::optional<std::int64_t> parse_id(std::string_view digits);

/// Number of Unicode code points in valid UTF-8 text.
std::size_t utf8_length(std::string_view s);

/// Reads fields from a request object, keeping the first error (in field order) so a handler
/// can read every field and then check once:
///
///     BodyReader body(obj);
///     auto name = body.string("name", {.required = true, .max_bytes = 200});
///     auto parent = body.id("parent_id");
///     if (auto e = body.error()) co_return error_response(*e);
///
/// Error texts: `<field> is required`, `<field> must be a string` (…an id, a boolean, an
/// integer, an array of ids), `<field> is too long`.
class BodyReader {
  public:
    struct StringRule {
        bool required = false;
        std::size_t max_bytes = 1024;
        bool trim = false;
    };
    struct ListRule {
        bool required = false;
        std::size_t max_items = 1000;
    };

    explicit BodyReader(const boost::json::object& obj) : obj_(obj) {}

    /// Absent or null → nullopt (or "is required"). With required, "" also counts as absent.
    std::optional<std::string> string(std::string_view key, StringRule rule);
    std::optional<std::int64_t> id(std::string_view key, bool required = false);
    std::optional<bool> boolean(std::string_view key);
    std::optional<std::int64_t> integer(std::string_view key, bool required = false);
    std::optional<std::vector<std::int64_t>> ids(std::string_view key, ListRule rule);
    /// An array of strings, each bounded by `item` (trimmed when it says so); empty items are
    /// dropped. Texts: `<field> must be an array of strings`, `<field> has an item that is too
    /// long`.
    std::optional<std::vector<std::string>> strings(std::string_view key, ListRule rule,
                                                    StringRule item);
    bool has(std::string_view key) const;

    const std::optional<Error>& error() const { return error_; }

  private:
    const boost::json::value* find(std::string_view key) const;
    void fail(std::string message);

    const boost::json::object& obj_;
    std::optional<Error> error_;
};

}  // namespace msg::core
