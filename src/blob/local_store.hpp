#pragma once

#include <filesystem>

#include "blob/blob_store.hpp"
#include "core/blocking.hpp"
#include "core/clock.hpp"

namespace msg::blob {

/// Objects as files under `dir` (DATA_DIR/blobs), written to a temp file, fsynced and renamed
/// into place (a reader never sees half an object). URLs point at fileman's
/// `/blobs/<key>?exp=[&ct=&len=&new=1]&sig=`, with `sig` = HMAC-SHA256(secret,
/// "<METHOD>\n<key>\n<exp>\n<ct>\n<len>\n<new>"), so a URL is good for one method, one key,
/// until `exp` (Unix seconds) and, for a PUT with UploadTerms, one Content-Type (`ct`), one
/// length (`len`) and creation only (`new`: never replaces), which the route enforces. File
/// I/O runs on the BlockingPool.
class LocalBlobStore final : public BlobStore {
  public:
    struct Options {
        std::filesystem::path dir;
        std::string public_base_url;  // "https://chat.example.com"; "" → the request's host
        std::string secret;           // ≥ 32 bytes; never logged
    };
    LocalBlobStore(core::BlockingPool& blocking, const core::Clock& clock, Options options);

    std::string_view name() const override { return "local"; }
    core::Task<void> ensure() override;
    PresignedUrl presign_put(std::string_view key, std::chrono::seconds ttl,
                             const UploadTerms& terms,
                             std::string_view base_hint = {}) const override;
    PresignedUrl presign_get(std::string_view key, std::chrono::seconds ttl,
                             std::string_view base_hint = {}) const override;
    bool needs_upload_size() const override { return false; }
    core::Task<std::optional<std::int64_t>> size(const std::string& key) override;
    core::Task<std::optional<std::string>> get(const std::string& key,
                                               std::size_t max_bytes) override;
    core::Task<void> put(const std::string& key, const std::string& content_type,
                         const std::string& data) override;

    /// A /blobs URL's check: signature (constant time) for this method, key and terms (the
    /// URL's `ct`, `len` and `new`, as they came), not expired.
    bool verify(std::string_view method, std::string_view key, std::string_view exp,
                std::string_view sig, std::string_view ct = {}, std::string_view len = {},
                std::string_view once = {}) const;
    /// The file of a valid key.
    std::filesystem::path path_of(std::string_view key) const;

  private:
    PresignedUrl presign(std::string_view method, std::string_view key, std::chrono::seconds ttl,
                         const UploadTerms& terms, std::string_view base_hint) const;

    core::BlockingPool& blocking_;
    const core::Clock& clock_;
    Options options_;
};

}  // namespace msg::blob
