// SigV4 canonicalisation of what a client can put in an object key (presigned URLs, store
// requests): blob::uri_encode, presign_url, authorization_header. Invariants: the encoding is
// URL-safe and decodes back to the key (so two keys never share a signed path); a presigned
// URL is the encoded path plus the fixed query and a 64-hex signature; no header line break
// can come out of a signed request.
#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>

#include "blob/sigv4.hpp"
#include "fuzz/fuzz.hpp"

using namespace msg;

namespace {

bool url_safe(char c, bool slash) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '%' || (slash && c == '/');
}

std::string percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            auto hex = [](char h) { return h <= '9' ? h - '0' : h - 'A' + 10; };
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

bool is_hex64(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (bool slash : {false, true}) {
        const std::string enc = blob::uri_encode(text, slash);
        for (char c : enc) FUZZ_CHECK(url_safe(c, slash));
        FUZZ_CHECK(percent_decode(enc) == text);
    }

    const blob::Credentials creds{.access_key = "AKIDEXAMPLE", .secret_key = "secret"};
    blob::PresignRequest req;
    req.method = size % 2 == 0 ? "GET" : "PUT";
    req.host = "127.0.0.1:9000";
    req.path = "/bucket/" + std::string(text);
    req.now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
    const std::string url = blob::presign_url(creds, req);
    const std::string head = "http://127.0.0.1:9000" + blob::uri_encode(req.path, true) + "?";
    FUZZ_CHECK(url.starts_with(head));
    FUZZ_CHECK(url.find('?') == head.size() - 1);  // the key cannot add a query
    const auto sig = url.rfind("&X-Amz-Signature=");
    FUZZ_CHECK(sig != std::string::npos && is_hex64(std::string_view(url).substr(sig + 17)));
    for (char c : url)
        FUZZ_CHECK(url_safe(c, true) || c == '?' || c == '&' || c == '=' || c == ':');

    // The input as a signed response override and a signed upload header (UploadTerms): the
    // parameter is encoded ahead of the authentication ones, and never adds one of its own.
    req.query = {{"response-content-disposition", std::string(text)}};
    req.headers = {{"content-type", std::string(text)}, {"content-length", "5"}};
    const std::string bound = blob::presign_url(creds, req);
    const std::string param = "response-content-disposition=" + blob::uri_encode(text, false) + "&";
    FUZZ_CHECK(bound.substr(head.size(), param.size()) == param);
    FUZZ_CHECK(bound.find("&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost&") !=
               std::string::npos);
    FUZZ_CHECK(std::count(bound.begin(), bound.end(), '&') == 6);

    // The input's halves as a header value and a path of a header-signed request.
    const auto half = text.size() / 2;
    blob::SignedRequest sreq;
    sreq.method = "PUT";
    sreq.host = "127.0.0.1:9000";
    sreq.path = "/bucket/" + std::string(text.substr(0, half));
    sreq.headers = {{"content-type", std::string(text.substr(half))},
                    {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"},
                    {"x-amz-date", blob::amz_date(req.now)}};
    sreq.payload_sha256_hex = "UNSIGNED-PAYLOAD";
    sreq.now = req.now;
    const std::string auth = blob::authorization_header(creds, sreq);
    FUZZ_CHECK(auth.find_first_of("\r\n") == std::string::npos);
    FUZZ_CHECK(auth.find(",SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date,") !=
               std::string::npos);
    FUZZ_CHECK(is_hex64(std::string_view(auth).substr(auth.rfind('=') + 1)));
    return 0;
}
