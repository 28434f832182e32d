#pragma once

// AWS Signature Version 4 for S3 (hand-written; proved by AWS's published examples, by
// byte-for-byte agreement with botocore, and by real transfers against s3rver — see
// README.md). Pure functions: no I/O, the clock is a parameter.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace msg::blob {

struct Credentials {
    std::string access_key;
    std::string secret_key;  // never logged
    std::string region = "us-east-1";
};

/// RFC 3986 encoding as SigV4 wants it: unreserved characters (A–Z a–z 0–9 - . _ ~) stay,
/// everything else is %XX (upper case) — '/' too unless `keep_slash` (object key paths).
std::string uri_encode(std::string_view s, bool keep_slash);

/// "20130524T000000Z".
std::string amz_date(std::chrono::system_clock::time_point t);

struct PresignRequest {
    std::string method = "GET";  // GET | PUT | HEAD
    std::string scheme = "http";
    std::string host;  // as sent in Host: "127.0.0.1:9000" (port only when not default)
    std::string path;  // unencoded: "/bucket/key" (path style) or "/key" (virtual host)
    std::chrono::system_clock::time_point now;
    std::chrono::seconds expires{900};
    /// Headers the client must send with exactly these values, signed besides `host`
    /// (lower-case names): `content-type` and `content-length` bind what a PUT may store.
    std::vector<std::pair<std::string, std::string>> headers;
    /// Parameters the URL carries, signed, unencoded, in URL order — e.g.
    /// `response-content-disposition` for what a GET's response says.
    std::vector<std::pair<std::string, std::string>> query;
};

/// A query-string-authenticated URL (operation parameters, then X-Amz-Algorithm …
/// X-Amz-Signature) with an UNSIGNED-PAYLOAD, as AWS SDKs presign.
std::string presign_url(const Credentials& c, const PresignRequest& r);

struct SignedRequest {
    std::string method;
    std::string host;
    std::string path;   // unencoded
    std::string query;  // already canonical ("" or "a=1&b=2", sorted, encoded)
    std::vector<std::pair<std::string, std::string>> headers;  // besides host; lower-case names
    std::string payload_sha256_hex;  // of the body (or "UNSIGNED-PAYLOAD")
    std::chrono::system_clock::time_point now;
};

/// The `Authorization` header value of a header-signed request. The caller sends `host`,
/// `x-amz-date` (amz_date(now)) and `x-amz-content-sha256` with the same values it passed
/// here; every header in `headers` is signed.
std::string authorization_header(const Credentials& c, const SignedRequest& r);

/// Lower-case hex SHA-256 (payload hashes).
std::string sha256_hex(std::string_view data);
/// Lower-case hex HMAC-SHA256 (the local store's URL signatures).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

}  // namespace msg::blob
