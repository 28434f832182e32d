#include "core/base64url.hpp"

#include <array>
#include <charconv>
#include <cstdint>

namespace msg::core {

std::string hex_encode(std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        out += kDigits[b >> 4];
        out += kDigits[b & 15];
    }
    return out;
}

namespace {
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> make_reverse() {
    std::array<std::int8_t, 256> r{};
    for (auto& x : r) x = -1;
    for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
        r[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
    }
    return r;
}
constexpr auto kReverse = make_reverse();
}  // namespace

std::string base64url_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8) |
                          std::uint8_t(bytes[i + 2]);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
        out += kAlphabet[n & 63];
    }
    std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        std::uint32_t n = std::uint8_t(bytes[i]) << 16;
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
    } else if (rest == 2) {
        std::uint32_t n = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
    }
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        // NOLINTNEXTLINE(bugprone-signed-char-misuse): the table's -1 marks a foreign character.
        int v = kReverse[static_cast<unsigned char>(c)];
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    // Unused trailing bits must be zero, so every cursor has exactly one spelling.
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

std::string encode_cursor(TimeIdCursor c) {
    return base64url_encode(std::to_string(c.unix_nanos) + ":" + std::to_string(c.id));
}

std::optional<TimeIdCursor> decode_cursor(std::string_view text) {
    if (text.empty() || text.size() > 128) return std::nullopt;
    auto raw = base64url_decode(text);
    if (!raw) return std::nullopt;
    auto colon = raw->find(':');
    if (colon == std::string::npos) return std::nullopt;
    TimeIdCursor c;
    const char* b = raw->data();
    auto r1 = std::from_chars(b, b + colon, c.unix_nanos);
    if (r1.ec != std::errc{} || r1.ptr != b + colon) return std::nullopt;
    auto r2 = std::from_chars(b + colon + 1, b + raw->size(), c.id);
    if (r2.ec != std::errc{} || r2.ptr != b + raw->size() || c.id < 1) return std::nullopt;
    return c;
}

}  // namespace msg::core
