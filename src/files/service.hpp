#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "blob/blob_store.hpp"
#include "blob/store_router.hpp"
#include "core/http.hpp"
#include "files/operations.hpp"

namespace msg::data {
class Executor;
}
namespace msg::chat {
class ChatService;
}
namespace msg::core {
class BlockingPool;
}
namespace msg::queue {
struct Event;
}

namespace msg::files {

/// Presigned transfer, registration and room file lists (API.md "Files"). Every key goes
/// through resolve_key(); rooms are checked for membership.
class FilesService {
  public:
    /// `stores` (may be null): where a dedicated tenant's objects go instead of `store`.
    FilesService(data::Executor& db, blob::BlobStore& store, chat::ChatService& chat,
                 core::BlockingPool& blocking, std::uint64_t max_upload_bytes,
                 blob::StoreRouter* stores = nullptr);

    struct Presigned {
        std::string url;
        std::string object_key;  // the stored key
        std::string expires_at;  // RFC 3339
    };
    /// `base_hint`: how the client reached us (URLs of the local store). 409 `file is already
    /// registered` for a registered file, its thumbnail or a sent note's attachment: those
    /// objects never change. `terms` bind the upload's Content-Type and length; the length is
    /// 1..MAX_UPLOAD_BYTES and required when the store cannot bound an upload otherwise (S3).
    core::Task<core::Result<Presigned>> presign_upload(const core::Principal& caller,
                                                       std::string key, blob::UploadTerms terms,
                                                       std::string base_hint);
    /// 404 `file not found` for a key the caller may not read, whether or not it exists.
    core::Task<core::Result<Presigned>> presign_download(const core::Principal& caller,
                                                         std::string key, std::string base_hint);

    struct Registration {
        std::int64_t room_id = 0;
        std::string object_key, content_type, original_name;
        std::int64_t size_bytes = 0;
    };
    /// The object must exist with exactly `size_bytes`; the key must be under the room.
    core::Task<core::Result<FileObject>> register_file(const core::Principal& caller,
                                                       Registration in);

    /// What a note may attach (issue 12): a registered file of a room the sender is in (403
    /// `file access denied` otherwise), or an existing object in the sender's own `notes/<id>/`
    /// folder (400 `object does not exist`). The stored key, which the note keeps.
    core::Task<core::Result<std::string>> attachable(const core::Principal& caller,
                                                     std::string key);

    struct FilePage {
        std::vector<FileObject> items;
        std::optional<std::string> next_cursor;
    };
    core::Task<core::Result<FilePage>> room_files(const core::Principal& caller,
                                                  std::int64_t room_id, int limit,
                                                  std::optional<std::string> cursor);

    static constexpr std::chrono::seconds kUrlTtl{900};  // the seed's 15 minutes

    /// The thumbnail consumer (group `thumbnails`, topic `file.registered`): makes a pending
    /// thumbnail, marks it ready (or none: not a usable image), and tells the room's sockets
    /// `file.thumbnail_ready` / `file.thumbnail_failed` with the file. Idempotent: a file whose
    /// thumbnail is no longer pending is left alone. Throws on a store or database failure (the
    /// delivery is retried).
    core::Task<void> on_file_registered(const queue::Event& event);

  private:
    /// Writes the thumbnail of an image object; false when there is none to make (gone, not an
    /// image, too large, a bomb, a decoder error — logged). A store failure throws.
    core::Task<bool> make_thumbnail(blob::BlobStore& store, const std::string& key,
                                    const std::string& thumb_key);
    /// The store of the tenant's objects.
    core::Task<std::shared_ptr<blob::BlobStore>> store_of(const std::string& tenant);

    data::Executor& db_;
    blob::BlobStore& store_;
    blob::StoreRouter* stores_;
    chat::ChatService& chat_;
    core::BlockingPool& blocking_;
    std::uint64_t max_upload_bytes_;
};

}  // namespace msg::files
