#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace msg::core {

/// RFC 4648 §5 base64url without padding (the seed's cursor encoding).
std::string base64url_encode(std::string_view bytes);
/// Rejects padding, characters outside the alphabet and impossible lengths.
std::optional<std::string> base64url_decode(std::string_view text);

/// Lowercase hex, two characters a byte (digests, tokens, file names).
std::string hex_encode(std::string_view bytes);

/// Keyset cursor "<unix_nanoseconds>:<id>" (seed §3.1.1), base64url encoded.
struct TimeIdCursor {
    long long unix_nanos = 0;
    long long id = 0;
};
std::string encode_cursor(TimeIdCursor c);
/// nullopt for anything malformed; callers answer 400 `cursor is invalid`.
std::optional<TimeIdCursor> decode_cursor(std::string_view text);

}  // namespace msg::core
