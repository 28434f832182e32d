#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include "core/describe.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
#include "files/model.hpp"

namespace msg::pg {
class Connection;  // storage/pg/connection.hpp (libpq) stays out of this header
}

namespace msg::data {
class Registry;  // data/remote.hpp
}

namespace msg::files {

/// 409 `file is already registered` for a key registered before; 403 `room access denied`
/// unless the uploader is a member of the room (checked in the same statement). A non-empty
/// `thumbnail_key` registers the file with thumbnail_status "pending". Writes the outbox event
/// `file.registered` in the same statement.
struct RegisterFile {
    static constexpr std::string_view kName = "files/register";
    static constexpr bool kReadOnly = false;
    struct Request {
        std::string tenant_id;
        std::int64_t room_id = 0;
        std::int64_t uploader_id = 0;
        std::string object_key;
        std::string content_type;
        std::int64_t size_bytes = 0;
        std::string thumbnail_key;
        std::string original_name;
    };
    using Response = FileObject;
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(RegisterFile::Request, (),
                    (tenant_id, room_id, uploader_id, object_key, content_type, size_bytes,
                     thumbnail_key, original_name))

/// What the thumbnail consumer needs of a registered file; `found` false for no such file.
struct ThumbnailJob {
    static constexpr std::string_view kName = "files/thumbnail-job";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // runs right after the registration commits
    struct Request {
        std::string tenant_id;
        std::int64_t file_id = 0;
    };
    struct Response {
        bool found = false;
        std::string object_key, thumbnail_key, thumbnail_status;
        std::int64_t size_bytes = 0;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(ThumbnailJob::Request, (), (tenant_id, file_id))
MSG_DESCRIBE_STRUCT(ThumbnailJob::Response, (),
                    (found, object_key, thumbnail_key, thumbnail_status, size_bytes))

/// A pending thumbnail becomes "ready" (`made`) or "none" with its key cleared. `updated` false
/// when it was not pending (done before: a redelivered event); else `file` is the new row.
struct FinishThumbnail {
    static constexpr std::string_view kName = "files/finish-thumbnail";
    static constexpr bool kReadOnly = false;
    static constexpr bool kIdempotent = true;  // acts only while pending
    struct Request {
        std::string tenant_id;
        std::int64_t file_id = 0;
        bool made = false;
    };
    struct Response {
        bool updated = false;
        FileObject file;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(FinishThumbnail::Request, (), (tenant_id, file_id, made))
MSG_DESCRIBE_STRUCT(FinishThumbnail::Response, (), (updated, file))

/// May `user_id` read the stored key? A registered file of a room they are in, or a file of a
/// note they sent or received. Unknown and forbidden look the same (`allowed = false`).
struct CanDownload {
    static constexpr std::string_view kName = "files/can-download";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // authorization: a removal is seen at once
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
        std::string object_key;  // stored form
    };
    struct Response {
        bool allowed = false;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(CanDownload::Request, (), (tenant_id, user_id, object_key))
MSG_DESCRIBE_STRUCT(CanDownload::Response, (), (allowed))

/// Is the stored key taken for good: a registered file or its thumbnail, or an attachment of
/// a sent note? Such objects are immutable (presign-upload → 409).
struct KeyTaken {
    static constexpr std::string_view kName = "files/key-taken";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // a check before a write
    struct Request {
        std::string tenant_id;
        std::string object_key;  // stored form
    };
    struct Response {
        bool taken = false;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(KeyTaken::Request, (), (tenant_id, object_key))
MSG_DESCRIBE_STRUCT(KeyTaken::Response, (), (taken))

/// Is the stored key a registered file of a room `user_id` is in (what a note may attach)?
struct IsRoomFileOfMember {
    static constexpr std::string_view kName = "files/room-file-of-member";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // authorization, as CanDownload
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
        std::string object_key;  // stored form
    };
    struct Response {
        bool yes = false;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(IsRoomFileOfMember::Request, (), (tenant_id, user_id, object_key))
MSG_DESCRIBE_STRUCT(IsRoomFileOfMember::Response, (), (yes))

/// A room's registered files, newest first, below `before_id`.
struct ListRoomFiles {
    static constexpr std::string_view kName = "files/list-room";
    // On the primary: the caller's membership is checked in the statement, and a replica's
    // could lag behind a removal.
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // and agrees with file events
    struct Request {
        std::string tenant_id;
        std::int64_t room_id = 0;
        std::optional<std::int64_t> before_id;
        int limit = 50;
        std::int64_t user_id = 0;  // the caller: must be a member (403 `room access denied`)
    };
    struct Response {
        std::vector<FileObject> items;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(ListRoomFiles::Request, (), (tenant_id, room_id, before_id, limit, user_id))
MSG_DESCRIBE_STRUCT(ListRoomFiles::Response, (), (items))

/// Adds every operation above to the dbman registry (wire.cpp).
void register_operations(data::Registry& r);

}  // namespace msg::files
