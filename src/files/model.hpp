#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include "core/describe.hpp"
#include "core/error.hpp"

namespace msg::files {

/// The seed's FileObject.
struct FileObject {
    std::string tenant_id;
    std::int64_t id = 0;
    std::int64_t room_id = 0;
    std::int64_t uploader_id = 0;
    std::string object_key;  // stored key: tenants/<tenant>/…
    std::string content_type;
    std::int64_t size_bytes = 0;
    std::string thumbnail_key;  // where the thumbnail is (pending) or was made (ready), else ""
    std::string original_name;
    std::string created_at;
    std::string thumbnail_status = "none";  // "pending" → "ready" | "none" (thumbnail consumer)
};
MSG_DESCRIBE_STRUCT(FileObject, (),
                    (tenant_id, id, room_id, uploader_id, object_key, content_type, size_bytes,
                     thumbnail_key, original_name, created_at, thumbnail_status))
boost::json::object to_json(const FileObject& f);

/// Where a client key points, after the rules of API.md "Files": trimmed, one leading '/'
/// dropped, an existing `tenants/<own tenant>/` prefix accepted; then `rooms/<id>/…`,
/// `users/<own id>/…` or `notes/<own id>/…` (`KeyUse::read` also takes any `notes/…` key:
/// whether the caller may read it is the note's business), stored under `tenants/<tenant>/`,
/// valid per blob::valid_key. 400 `object_key is required` / `object_key is invalid` /
/// `object_key must start with rooms/<room_id>/, users/<your id>/ or notes/<your id>/`.
struct ResolvedKey {
    std::string stored;                   // tenants/<tenant>/rooms/7/a.png
    std::optional<std::int64_t> room_id;  // for rooms/<id>/…
    bool note = false;                    // notes/…
};
enum class KeyUse { write, read };
core::Result<ResolvedKey> resolve_key(std::string_view tenant_id, std::int64_t user_id,
                                      std::string_view key, KeyUse use = KeyUse::write);

/// The seed's thumbnail key: the stored key with the last segment's extension replaced by
/// `_thumb.jpg` (appended when there is none).
/// `<key without extension>_thumb.jpg`, in the key's folder; "" when that would not be a
/// valid key (too long).
std::string thumbnail_key_for(std::string_view key);

inline constexpr std::size_t kMaxKeyBytes = 512;
inline constexpr std::size_t kMaxContentTypeBytes = 255;
inline constexpr std::size_t kMaxNameBytes = 255;

}  // namespace msg::files
