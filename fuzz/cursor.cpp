// Page cursors and base64url (every list route takes `cursor` from the query string).
// Invariants: a decoded cursor encodes back to one that decodes to the same key; base64url
// round-trips the bytes it decoded; anything decode accepts is alphabet-only.
#include <cstring>
#include <string>
#include <string_view>

#include "core/base64url.hpp"
#include "fuzz/fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto c = msg::core::decode_cursor(text)) {
        auto again = msg::core::decode_cursor(msg::core::encode_cursor(*c));
        FUZZ_CHECK(again && again->unix_nanos == c->unix_nanos && again->id == c->id);
    }
    if (auto bytes = msg::core::base64url_decode(text)) {
        for (char ch : text) {
            FUZZ_CHECK((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                       (ch >= '0' && ch <= '9') || ch == '-' || ch == '_');
        }
        auto again = msg::core::base64url_decode(msg::core::base64url_encode(*bytes));
        FUZZ_CHECK(again && *again == *bytes);
    }
    // Any bytes encode to text that decodes back to them.
    auto round = msg::core::base64url_decode(msg::core::base64url_encode(text));
    FUZZ_CHECK(round && *round == text);
    // A cursor of any key the server could write decodes to that key.
    if (size >= 16) {
        msg::core::TimeIdCursor c;
        std::memcpy(&c.unix_nanos, data, 8);
        std::memcpy(&c.id, data + 8, 8);
        auto back = msg::core::decode_cursor(msg::core::encode_cursor(c));
        if (c.id >= 1) {
            FUZZ_CHECK(back && back->unix_nanos == c.unix_nanos && back->id == c.id);
        }
    }
    return 0;
}
