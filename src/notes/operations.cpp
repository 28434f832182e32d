#include "notes/operations.hpp"

#include "data/executor.hpp"
#include "storage/pg/connection.hpp"

namespace msg::notes {

namespace {

// One statement, one implicit transaction. The note row is inserted only when every recipient
// is a user of the tenant; the recipient and file rows hang off it.
constexpr std::string_view kCreate =
    "WITH note AS ("
    "  INSERT INTO notes (tenant_id, sender_id, title, body)"
    "  SELECT $1, $2, $3, $4"
    "  WHERE (SELECT count(*) FROM users WHERE tenant_id = $1 AND id = ANY($5::bigint[]))"
    "        = cardinality($5::bigint[])"
    "  RETURNING id, created_at),"
    " recipients AS ("
    "  INSERT INTO note_recipients (tenant_id, note_id, user_id, recipient_type, position)"
    "  SELECT $1, note.id, x.user_id, x.type, x.position"
    "  FROM note, unnest($5::bigint[], $6::text[]) WITH ORDINALITY AS x(user_id, type, position)),"
    " files AS ("
    "  INSERT INTO note_files"
    "    (tenant_id, note_id, position, file_name, object_key, content_type, size_bytes)"
    "  SELECT $1, note.id, f.position, f.name, f.object_key, f.content_type, f.size_bytes"
    "  FROM note, unnest($7::text[], $8::text[], $9::text[], $10::bigint[])"
    "    WITH ORDINALITY AS f(name, object_key, content_type, size_bytes, position))"
    " SELECT id, created_at FROM note";

constexpr std::string_view kInbox =
    "SELECT n.id, n.sender_id, r.recipient_type, n.title, n.body,"
    "   (SELECT count(*) FROM note_files f WHERE f.tenant_id = n.tenant_id AND f.note_id = n.id),"
    "   r.is_read, r.read_at, n.created_at"
    " FROM note_recipients r"
    " JOIN notes n ON n.tenant_id = r.tenant_id AND n.id = r.note_id"
    " WHERE r.tenant_id = $1 AND r.user_id = $2 AND ($3::bigint IS NULL OR r.note_id < $3)"
    " ORDER BY r.note_id DESC LIMIT $4";

constexpr std::string_view kGet =
    "SELECT n.id, n.sender_id, n.title, n.body, n.created_at,"
    "   r.recipient_type, r.is_read, r.read_at"
    " FROM notes n"
    " LEFT JOIN note_recipients r"
    "   ON r.tenant_id = n.tenant_id AND r.note_id = n.id AND r.user_id = $2"
    " WHERE n.tenant_id = $1 AND n.id = $3 AND (n.sender_id = $2 OR r.user_id IS NOT NULL)";
// $4: the viewer is the sender (sees bcc).
constexpr std::string_view kGetRecipients =
    "SELECT user_id, recipient_type FROM note_recipients"
    " WHERE tenant_id = $1 AND note_id = $2"
    "   AND ($4 OR recipient_type <> 'bcc' OR user_id = $3)"
    " ORDER BY position";
constexpr std::string_view kGetFiles =
    "SELECT file_name, object_key, content_type, size_bytes FROM note_files"
    " WHERE tenant_id = $1 AND note_id = $2 ORDER BY position";

constexpr std::string_view kMarkRead =
    "UPDATE note_recipients SET is_read = true, read_at = coalesce(read_at, now())"
    " WHERE tenant_id = $1 AND user_id = $2 AND note_id = $3";

}  // namespace

core::Task<core::Result<Note>> CreateNote::run(pg::Connection& c, const Request& r) {
    std::vector<std::int64_t> user_ids;
    std::vector<std::string> types;
    for (const auto& recipient : r.recipients) {
        user_ids.push_back(recipient.user_id);
        types.push_back(recipient.type);
    }
    std::vector<std::string> names, keys, content_types;
    std::vector<std::int64_t> sizes;
    for (const auto& f : r.files) {
        names.push_back(f.file_name);
        keys.push_back(f.object_key);
        content_types.push_back(f.content_type);
        sizes.push_back(f.size_bytes);
    }
    auto rows = co_await c.query(kCreate, r.tenant_id, r.sender_id, r.title, r.body, user_ids,
                                 types, names, keys, content_types, sizes);
    if (rows.empty()) co_return core::invalid("unknown recipient");
    Note note;
    note.note_id = rows.int64(0, 0);
    note.created_at = rows.time(0, 1);
    note.tenant_id = r.tenant_id;
    note.sender_user_id = r.sender_id;
    note.title = r.title;
    note.body = r.body;
    note.recipients = r.recipients;
    note.files = r.files;
    co_return note;
}

core::Task<core::Result<ListInbox::Response>> ListInbox::run(pg::Connection& c, const Request& r) {
    auto rows = co_await c.query(kInbox, r.tenant_id, r.user_id, r.before, r.limit);
    Response out;
    for (int i = 0; i < rows.size(); ++i) {
        InboxItem item;
        item.note_id = rows.int64(i, 0);
        item.sender_user_id = rows.int64(i, 1);
        item.recipient_type = rows.string(i, 2);
        item.title = rows.string(i, 3);
        item.body = rows.string(i, 4);
        item.file_count = static_cast<int>(rows.int64(i, 5));
        item.is_read = rows.boolean(i, 6);
        if (!rows.is_null(i, 7)) item.read_at = rows.time(i, 7);
        item.created_at = rows.time(i, 8);
        out.items.push_back(std::move(item));
    }
    co_return out;
}

core::Task<core::Result<GetNote::Response>> GetNote::run(pg::Connection& c, const Request& r) {
    auto rows = co_await c.query(kGet, r.tenant_id, r.viewer_id, r.note_id);
    if (rows.empty()) co_return core::not_found("note not found");
    Response out;
    out.note.note_id = rows.int64(0, 0);
    out.note.tenant_id = r.tenant_id;
    out.note.sender_user_id = rows.int64(0, 1);
    out.note.title = rows.string(0, 2);
    out.note.body = rows.string(0, 3);
    out.note.created_at = rows.time(0, 4);
    if (!rows.is_null(0, 5)) {
        out.recipient_type = rows.string(0, 5);
        out.is_read = rows.boolean(0, 6);
        if (!rows.is_null(0, 7)) out.read_at = rows.time(0, 7);
    }
    const bool is_sender = out.note.sender_user_id == r.viewer_id;
    auto recipients =
        co_await c.query(kGetRecipients, r.tenant_id, r.note_id, r.viewer_id, is_sender);
    for (int i = 0; i < recipients.size(); ++i) {
        out.note.recipients.push_back({recipients.int64(i, 0), recipients.string(i, 1)});
    }
    auto files = co_await c.query(kGetFiles, r.tenant_id, r.note_id);
    for (int i = 0; i < files.size(); ++i) {
        out.note.files.push_back(
            {files.string(i, 0), files.string(i, 1), files.string(i, 2), files.int64(i, 3)});
    }
    co_return out;
}

core::Task<core::Result<MarkNoteRead::Response>> MarkNoteRead::run(pg::Connection& c,
                                                                   const Request& r) {
    auto rows = co_await c.query(kMarkRead, r.tenant_id, r.user_id, r.note_id);
    co_return Response{rows.affected() > 0};
}

}  // namespace msg::notes
