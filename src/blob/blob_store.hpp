#pragma once

// Where file bytes live (ARCHITECTURE §4): local disk with server-signed URLs (default) or an
// S3 API (MinIO, AWS, s3rver in tests) with SigV4-presigned URLs. Clients move the bytes
// directly with the presigned URLs; the server itself only reads and writes small objects
// (thumbnails) and checks sizes.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/task.hpp"

namespace msg::blob {

struct PresignedUrl {
    std::string url;
    std::chrono::system_clock::time_point expires_at;
};

/// What a presigned PUT may store (issue 12). When set, the client must send exactly this
/// Content-Type and this Content-Length, and the store refuses anything else.
struct UploadTerms {
    std::string content_type;  // "" = any
    std::optional<std::int64_t> size_bytes;
    /// The PUT may create the object, never replace it (409 from the local store). S3 takes
    /// this only with `If-None-Match: *`, which clients would have to send: not signed there
    /// (docs/API.md says so).
    bool create_only = false;
};

/// Infrastructure failures throw core::UnavailableException. Keys are full object keys
/// (`tenants/<tenant>/rooms/…`), validated by valid_key() before any store sees them.
class BlobStore {
  public:
    virtual ~BlobStore() = default;
    virtual std::string_view name() const = 0;
    /// Creates the directory or the bucket.
    virtual core::Task<void> ensure() = 0;
    /// `base_hint`: how the client reached this server ("http://host:port"), for stores that
    /// serve the URLs themselves and have no configured public base (local); others ignore it.
    virtual PresignedUrl presign_put(std::string_view key, std::chrono::seconds ttl,
                                     const UploadTerms& terms,
                                     std::string_view base_hint = {}) const = 0;
    /// A download answered as `Content-Disposition: attachment` (a browser saves it rather
    /// than rendering it as a page of our origin).
    virtual PresignedUrl presign_get(std::string_view key, std::chrono::seconds ttl,
                                     std::string_view base_hint = {}) const = 0;
    /// True when only UploadTerms::size_bytes can bound what a presigned PUT stores: the bytes
    /// never pass through this server (S3). The local store enforces its own cap as it reads.
    virtual bool needs_upload_size() const = 0;
    /// The object's size; nullopt when it does not exist.
    virtual core::Task<std::optional<std::int64_t>> size(const std::string& key) = 0;
    /// The whole object; nullopt when it does not exist. Throws UnavailableException when it is
    /// larger than `max_bytes` (it is never read whole then).
    virtual core::Task<std::optional<std::string>> get(const std::string& key,
                                                       std::size_t max_bytes) = 0;
    virtual core::Task<void> put(const std::string& key, const std::string& content_type,
                                 const std::string& data) = 0;
};

/// The key rules of every store (API.md "Files"): relative, 1–512 bytes of valid UTF-8, no
/// control characters or backslashes, no empty, `.` or `..` segments, no trailing '/'.
bool valid_key(std::string_view key);

}  // namespace msg::blob
