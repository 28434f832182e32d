#include "blob/s3_store.hpp"

#include <charconv>

#include "core/error.hpp"

namespace msg::blob {

S3BlobStore::Endpoint S3BlobStore::split(const std::string& url) {
    const auto sep = url.find("://");
    if (sep == std::string::npos) throw std::invalid_argument("S3 endpoint needs a scheme");
    Endpoint e{url.substr(0, sep), url.substr(sep + 3)};
    while (!e.host.empty() && e.host.back() == '/') e.host.pop_back();
    return e;
}

S3BlobStore::S3BlobStore(core::HttpClient& http, const core::Clock& clock, Options options)
    : http_(http), clock_(clock), options_(std::move(options)) {
    internal_ = split(options_.endpoint);
    public_ =
        split(options_.public_endpoint.empty() ? options_.endpoint : options_.public_endpoint);
}

PresignedUrl S3BlobStore::presign(PresignRequest r, std::string_view key,
                                  std::chrono::seconds ttl) const {
    r.scheme = public_.scheme;
    r.host = public_.host;
    r.path = "/" + options_.bucket + "/" + std::string(key);
    r.now = std::chrono::time_point_cast<std::chrono::seconds>(clock_.now());
    r.expires = ttl;
    return {presign_url(options_.credentials, r),
            std::chrono::time_point_cast<std::chrono::seconds>(r.now + ttl)};
}

PresignedUrl S3BlobStore::presign_put(std::string_view key, std::chrono::seconds ttl,
                                      const UploadTerms& terms, std::string_view) const {
    PresignRequest r;
    r.method = "PUT";
    if (!terms.content_type.empty()) r.headers.emplace_back("content-type", terms.content_type);
    if (terms.size_bytes) {
        r.headers.emplace_back("content-length", std::to_string(*terms.size_bytes));
    }
    return presign(std::move(r), key, ttl);
}

PresignedUrl S3BlobStore::presign_get(std::string_view key, std::chrono::seconds ttl,
                                      std::string_view) const {
    PresignRequest r;
    r.method = "GET";
    r.query.emplace_back("response-content-disposition", "attachment");
    return presign(std::move(r), key, ttl);
}

core::Task<core::ClientResponse> S3BlobStore::send(core::Method method, const std::string& path,
                                                   const std::string& content_type,
                                                   const std::string& body) {
    SignedRequest s;
    s.method = std::string(core::to_string(method));
    s.host = internal_.host;
    s.path = path;
    s.payload_sha256_hex = sha256_hex(body);
    s.now = clock_.now();
    const std::string date = amz_date(s.now);
    s.headers = {{"x-amz-content-sha256", s.payload_sha256_hex}, {"x-amz-date", date}};
    if (!content_type.empty()) s.headers.emplace_back("content-type", content_type);
    core::ClientRequest req;
    req.method = method;
    req.url = internal_.scheme + "://" + internal_.host + uri_encode(path, true);
    req.body = body;
    req.content_type = content_type.empty() ? "application/octet-stream" : content_type;
    req.timeout = std::chrono::seconds(30);
    req.headers = {{"x-amz-content-sha256", s.payload_sha256_hex},
                   {"x-amz-date", date},
                   {"Authorization", authorization_header(options_.credentials, s)}};
    co_return co_await http_.send(req);
}

core::Task<void> S3BlobStore::ensure() {
    const std::string bucket = "/" + options_.bucket;
    const std::string none;
    auto head = co_await send(core::Method::head, bucket, none, none);
    if (head.status == 200) co_return;
    if (head.status != 404) {
        throw core::UnavailableException("S3 bucket check answered " + std::to_string(head.status));
    }
    auto created = co_await send(core::Method::put, bucket, none, none);
    if (created.status != 200 && created.status != 409) {  // 409: created meanwhile
        throw core::UnavailableException("S3 bucket create answered " +
                                         std::to_string(created.status));
    }
}

core::Task<std::optional<std::int64_t>> S3BlobStore::size(const std::string& key) {
    const std::string path = "/" + options_.bucket + "/" + key;
    const std::string none;
    auto res = co_await send(core::Method::head, path, none, none);
    if (res.status == 404) co_return std::nullopt;
    if (res.status != 200) {
        throw core::UnavailableException("S3 HEAD answered " + std::to_string(res.status));
    }
    const auto length = res.header("content-length");
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), n);
    if (ec != std::errc{} || end != length.data() + length.size()) {
        throw core::UnavailableException("S3 HEAD without a content-length");
    }
    co_return n;
}

core::Task<std::optional<std::string>> S3BlobStore::get(const std::string& key,
                                                        std::size_t max_bytes) {
    auto n = co_await size(key);
    if (!n) co_return std::nullopt;
    if (static_cast<std::uint64_t>(*n) > max_bytes) {
        throw core::UnavailableException("object is larger than allowed");
    }
    const std::string path = "/" + options_.bucket + "/" + key;
    const std::string none;
    auto res = co_await send(core::Method::get, path, none, none);
    if (res.status == 404) co_return std::nullopt;
    if (res.status != 200) {
        throw core::UnavailableException("S3 GET answered " + std::to_string(res.status));
    }
    co_return std::move(res.body);
}

core::Task<void> S3BlobStore::put(const std::string& key, const std::string& content_type,
                                  const std::string& data) {
    const std::string path = "/" + options_.bucket + "/" + key;
    auto res = co_await send(core::Method::put, path, content_type, data);
    if (res.status != 200) {
        throw core::UnavailableException("S3 PUT answered " + std::to_string(res.status));
    }
}

}  // namespace msg::blob
