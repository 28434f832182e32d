#include "blob/sigv4.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <ctime>

#include "core/base64url.hpp"

namespace msg::blob {

namespace {

using Digest = std::array<unsigned char, crypto_auth_hmacsha256_BYTES>;

Digest hmac(std::string_view key, std::string_view data) {
    Digest out{};
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                                key.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()),
                                  data.size());
    crypto_auth_hmacsha256_final(&state, out.data());
    return out;
}

std::string_view view(const Digest& d) {
    return {reinterpret_cast<const char*>(d.data()), d.size()};
}

std::string signature(const Credentials& c, std::string_view date, std::string_view amzdate,
                      std::string_view scope, std::string_view canonical_request) {
    const std::string to_sign = "AWS4-HMAC-SHA256\n" + std::string(amzdate) + "\n" +
                                std::string(scope) + "\n" + sha256_hex(canonical_request);
    const Digest k_date = hmac("AWS4" + c.secret_key, date);
    const Digest k_region = hmac(view(k_date), c.region);
    const Digest k_service = hmac(view(k_region), "s3");
    const Digest k_signing = hmac(view(k_service), "aws4_request");
    const Digest sig = hmac(view(k_signing), to_sign);
    return core::hex_encode(view(sig));
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

/// SigV4's canonical headers ("name:value\n" sorted by name, values trimmed; inner runs of
/// spaces would be collapsed too — we send none) and the signed-header list ("a;b;host").
struct CanonicalHeaders {
    std::string lines;
    std::string names;
};

CanonicalHeaders canonicalize(Pairs headers, const std::string& host) {
    headers.emplace_back("host", host);
    std::sort(headers.begin(), headers.end());
    CanonicalHeaders out;
    for (const auto& [name, value] : headers) {
        std::string_view v = value;
        while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
        while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
        out.lines += name + ":" + std::string(v) + "\n";
        if (!out.names.empty()) out.names += ';';
        out.names += name;
    }
    return out;
}

std::string join_query(const Pairs& encoded) {
    std::string out;
    for (const auto& [name, value] : encoded) {
        if (!out.empty()) out += '&';
        out += name + "=" + value;
    }
    return out;
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
    const Digest d = hmac(key, data);
    return core::hex_encode(view(d));
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    return core::hex_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

std::string uri_encode(std::string_view s, bool keep_slash) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3);
    for (unsigned char c : s) {
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved || (keep_slash && c == '/')) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kDigits[c >> 4];
            out += kDigits[c & 15];
        }
    }
    return out;
}

std::string amz_date(std::chrono::system_clock::time_point t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[17];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

std::string presign_url(const Credentials& c, const PresignRequest& r) {
    const std::string amzdate = amz_date(r.now);
    const std::string date = amzdate.substr(0, 8);
    const std::string scope = date + "/" + c.region + "/s3/aws4_request";
    const CanonicalHeaders headers = canonicalize(r.headers, r.host);
    // The URL carries the operation's parameters first, then the authentication ones (as AWS
    // SDKs write it); the canonical query is all of them sorted by encoded name.
    Pairs operation;
    operation.reserve(r.query.size());
    for (const auto& [name, value] : r.query) {
        operation.emplace_back(uri_encode(name, false), uri_encode(value, false));
    }
    const Pairs auth = {{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
                        {"X-Amz-Credential", uri_encode(c.access_key + "/" + scope, false)},
                        {"X-Amz-Date", amzdate},
                        {"X-Amz-Expires", std::to_string(r.expires.count())},
                        {"X-Amz-SignedHeaders", uri_encode(headers.names, false)}};
    Pairs all = operation;
    all.insert(all.end(), auth.begin(), auth.end());
    std::sort(all.begin(), all.end());
    const std::string uri = uri_encode(r.path, true);
    const std::string canonical = r.method + "\n" + uri + "\n" + join_query(all) + "\n" +
                                  headers.lines + "\n" + headers.names + "\nUNSIGNED-PAYLOAD";
    std::string query = join_query(operation);
    if (!query.empty()) query += '&';
    query += join_query(auth);
    return r.scheme + "://" + r.host + uri + "?" + query +
           "&X-Amz-Signature=" + signature(c, date, amzdate, scope, canonical);
}

std::string authorization_header(const Credentials& c, const SignedRequest& r) {
    const std::string amzdate = amz_date(r.now);
    const std::string date = amzdate.substr(0, 8);
    const std::string scope = date + "/" + c.region + "/s3/aws4_request";
    const CanonicalHeaders headers = canonicalize(r.headers, r.host);
    const std::string canonical = r.method + "\n" + uri_encode(r.path, true) + "\n" + r.query +
                                  "\n" + headers.lines + "\n" + headers.names + "\n" +
                                  r.payload_sha256_hex;
    return "AWS4-HMAC-SHA256 Credential=" + c.access_key + "/" + scope +
           ",SignedHeaders=" + headers.names +
           ",Signature=" + signature(c, date, amzdate, scope, canonical);
}

}  // namespace msg::blob
