#pragma once

#include "blob/blob_store.hpp"
#include "blob/sigv4.hpp"
#include "core/clock.hpp"
#include "core/http_client.hpp"

namespace msg::blob {

/// An S3-API bucket (MinIO in production, s3rver in tests), path-style. Clients get SigV4
/// presigned URLs for `public_endpoint` (what their browsers can reach): a PUT signs the
/// upload's Content-Type and Content-Length (UploadTerms), a GET signs
/// `response-content-disposition=attachment`. The server's own
/// requests (bucket check, HEAD, GET, PUT of thumbnails) are header-signed and go to
/// `endpoint`.
class S3BlobStore final : public BlobStore {
  public:
    struct Options {
        std::string endpoint;         // "http://minio:9000"
        std::string public_endpoint;  // "" → endpoint
        std::string bucket = "chat-files";
        Credentials credentials;
    };
    S3BlobStore(core::HttpClient& http, const core::Clock& clock, Options options);

    std::string_view name() const override { return "s3"; }
    core::Task<void> ensure() override;
    PresignedUrl presign_put(std::string_view key, std::chrono::seconds ttl,
                             const UploadTerms& terms,
                             std::string_view base_hint = {}) const override;
    PresignedUrl presign_get(std::string_view key, std::chrono::seconds ttl,
                             std::string_view base_hint = {}) const override;
    bool needs_upload_size() const override { return true; }
    core::Task<std::optional<std::int64_t>> size(const std::string& key) override;
    core::Task<std::optional<std::string>> get(const std::string& key,
                                               std::size_t max_bytes) override;
    core::Task<void> put(const std::string& key, const std::string& content_type,
                         const std::string& data) override;

  private:
    struct Endpoint {
        std::string scheme, host;
    };
    static Endpoint split(const std::string& url);
    PresignedUrl presign(PresignRequest r, std::string_view key, std::chrono::seconds ttl) const;
    /// One header-signed request to `endpoint`; any HTTP answer comes back.
    core::Task<core::ClientResponse> send(core::Method method, const std::string& path,
                                          const std::string& content_type, const std::string& body);

    core::HttpClient& http_;
    const core::Clock& clock_;
    Options options_;
    Endpoint internal_, public_;
};

}  // namespace msg::blob
