#include "files/operations.hpp"
#include "storage/pg/connection.hpp"

namespace msg::files {

namespace {

#define MSG_FILE_COLUMNS                                                                         \
    "tenant_id, id, room_id, uploader_id, object_key, content_type, size_bytes, thumbnail_key, " \
    "original_name, created_at, thumbnail_status"

FileObject file_from(const pg::Rows& rows, int i) {
    return FileObject{rows.string(i, 0), rows.int64(i, 1),  rows.int64(i, 2),  rows.int64(i, 3),
                      rows.string(i, 4), rows.string(i, 5), rows.int64(i, 6),  rows.string(i, 7),
                      rows.string(i, 8), rows.time(i, 9),   rows.string(i, 10)};
}

// Membership in the statement: a file can only be registered into a room of the uploader.
// The `file.registered` event commits with the row (the thumbnail consumer's work order).
constexpr std::string_view kRegister =
    "WITH f AS ("
    "  INSERT INTO files (tenant_id, room_id, uploader_id, object_key, content_type, size_bytes,"
    "     thumbnail_key, original_name, thumbnail_status)"
    "  SELECT $1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $7 <> '' THEN 'pending' ELSE 'none' END"
    "  WHERE EXISTS (SELECT 1 FROM room_members"
    "     WHERE tenant_id = $1 AND room_id = $2 AND user_id = $3)"
    "  ON CONFLICT (tenant_id, object_key) DO NOTHING"
    "  RETURNING " MSG_FILE_COLUMNS
    "),"
    " event AS ("
    "  INSERT INTO outbox (tenant_id, topic, payload)"
    "  SELECT $1, 'file.registered', jsonb_build_object('file_id', f.id, 'room_id', f.room_id,"
    "    'uploader_id', f.uploader_id, 'object_key', f.object_key, 'content_type',"
    "    f.content_type, 'size_bytes', f.size_bytes, 'thumbnail_key', f.thumbnail_key) FROM f)"
    " SELECT * FROM f";

constexpr std::string_view kThumbnailJob =
    "SELECT object_key, thumbnail_key, thumbnail_status, size_bytes FROM files"
    " WHERE tenant_id = $1 AND id = $2";
// Only a pending thumbnail moves: a second delivery of the same event finds nothing to do.
constexpr std::string_view kFinishThumbnail =
    "UPDATE files SET thumbnail_status = CASE WHEN $3 THEN 'ready' ELSE 'none' END,"
    "   thumbnail_key = CASE WHEN $3 THEN thumbnail_key ELSE '' END"
    " WHERE tenant_id = $1 AND id = $2 AND thumbnail_status = 'pending'"
    " RETURNING " MSG_FILE_COLUMNS;
constexpr std::string_view kRegisteredOrMember =
    "SELECT EXISTS (SELECT 1 FROM files WHERE tenant_id = $1 AND object_key = $2),"
    " EXISTS (SELECT 1 FROM room_members WHERE tenant_id = $1 AND room_id = $3 AND user_id = $4)";

constexpr std::string_view kCanDownload =
    "SELECT EXISTS (SELECT 1 FROM files f JOIN room_members m ON m.tenant_id = f.tenant_id"
    "   AND m.room_id = f.room_id AND m.user_id = $3"
    "   WHERE f.tenant_id = $1 AND (f.object_key = $2 OR f.thumbnail_key = $2))"
    " OR EXISTS (SELECT 1 FROM note_files nf JOIN notes n ON n.tenant_id = nf.tenant_id"
    "   AND n.id = nf.note_id"
    "   WHERE nf.tenant_id = $1"
    "     AND (nf.object_key = $2 OR 'tenants/' || $1 || '/' || ltrim(nf.object_key, '/') = $2)"
    "     AND (n.sender_id = $3 OR EXISTS (SELECT 1 FROM note_recipients r"
    "          WHERE r.tenant_id = n.tenant_id AND r.note_id = n.id AND r.user_id = $3)))";

constexpr std::string_view kKeyTaken =
    "SELECT EXISTS (SELECT 1 FROM files WHERE tenant_id = $1 AND object_key = $2)"
    " OR EXISTS (SELECT 1 FROM files WHERE tenant_id = $1 AND thumbnail_key = $2)"
    " OR EXISTS (SELECT 1 FROM note_files WHERE tenant_id = $1 AND object_key = $2)";

constexpr std::string_view kRoomFileOfMember =
    "SELECT EXISTS (SELECT 1 FROM files f JOIN room_members m ON m.tenant_id = f.tenant_id"
    "   AND m.room_id = f.room_id AND m.user_id = $3"
    "   WHERE f.tenant_id = $1 AND f.object_key = $2)";

// One page and the caller's membership in one statement (as chat's history): always one row (g),
// the file columns NULL when there is no file or no membership; `ok` is the last column.
constexpr std::string_view kListRoom =
    "SELECT f.*, g.ok FROM (SELECT EXISTS (SELECT 1 FROM room_members"
    "   WHERE tenant_id = $1 AND room_id = $2 AND user_id = $5) AS ok) g"
    " LEFT JOIN LATERAL (SELECT " MSG_FILE_COLUMNS
    "   FROM files WHERE tenant_id = $1 AND room_id = $2 AND ($3::bigint IS NULL OR id < $3)"
    "   ORDER BY id DESC LIMIT $4) f ON g.ok"
    " ORDER BY f.id DESC";
constexpr int kListOkColumn = 11;  // after the MSG_FILE_COLUMNS

}  // namespace

core::Task<core::Result<RegisterFile::Response>> RegisterFile::run(pg::Connection& c,
                                                                   const Request& r) {
    auto rows = co_await c.query(kRegister, r.tenant_id, r.room_id, r.uploader_id, r.object_key,
                                 r.content_type, r.size_bytes, r.thumbnail_key, r.original_name);
    if (!rows.empty()) co_return file_from(rows, 0);
    auto why =
        co_await c.query(kRegisteredOrMember, r.tenant_id, r.object_key, r.room_id, r.uploader_id);
    if (!why.boolean(0, 1)) co_return core::forbidden("room access denied");
    co_return core::conflict("file is already registered");
}

core::Task<core::Result<ThumbnailJob::Response>> ThumbnailJob::run(pg::Connection& c,
                                                                   const Request& r) {
    auto rows = co_await c.query(kThumbnailJob, r.tenant_id, r.file_id);
    if (rows.empty()) co_return Response{};
    co_return Response{true, rows.string(0, 0), rows.string(0, 1), rows.string(0, 2),
                       rows.int64(0, 3)};
}

core::Task<core::Result<FinishThumbnail::Response>> FinishThumbnail::run(pg::Connection& c,
                                                                         const Request& r) {
    auto rows = co_await c.query(kFinishThumbnail, r.tenant_id, r.file_id, r.made);
    if (rows.empty()) co_return Response{};
    co_return Response{true, file_from(rows, 0)};
}

core::Task<core::Result<CanDownload::Response>> CanDownload::run(pg::Connection& c,
                                                                 const Request& r) {
    auto rows = co_await c.query(kCanDownload, r.tenant_id, r.object_key, r.user_id);
    co_return Response{rows.boolean(0, 0)};
}

core::Task<core::Result<KeyTaken::Response>> KeyTaken::run(pg::Connection& c, const Request& r) {
    auto rows = co_await c.query(kKeyTaken, r.tenant_id, r.object_key);
    co_return Response{rows.boolean(0, 0)};
}

core::Task<core::Result<IsRoomFileOfMember::Response>> IsRoomFileOfMember::run(pg::Connection& c,
                                                                               const Request& r) {
    auto rows = co_await c.query(kRoomFileOfMember, r.tenant_id, r.object_key, r.user_id);
    co_return Response{rows.boolean(0, 0)};
}

core::Task<core::Result<ListRoomFiles::Response>> ListRoomFiles::run(pg::Connection& c,
                                                                     const Request& r) {
    auto rows =
        co_await c.query(kListRoom, r.tenant_id, r.room_id, r.before_id, r.limit, r.user_id);
    if (rows.empty() || !rows.boolean(0, kListOkColumn)) {
        co_return core::forbidden("room access denied");
    }
    Response out;
    for (int i = 0; i < rows.size(); ++i) {
        if (rows.is_null(i, 1)) continue;  // the member's row of an empty room
        out.items.push_back(file_from(rows, i));
    }
    co_return out;
}

}  // namespace msg::files
