#pragma once

// Data operations of the notes module (ARCHITECTURE §5). Every statement filters by
// tenant_id.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/describe.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
#include "notes/model.hpp"

namespace msg::pg {
class Connection;  // storage/pg/connection.hpp (libpq) stays out of this header
}

namespace msg::data {
class Registry;  // data/remote.hpp
}

namespace msg::notes {

/// One statement: the note, its recipients and its files, only if every recipient is a user
/// of the tenant.
struct CreateNote {
    static constexpr std::string_view kName = "session/notes/create";
    static constexpr bool kReadOnly = false;
    struct Request {
        std::string tenant_id;
        std::int64_t sender_id = 0;
        std::string title;
        std::string body;
        std::vector<Recipient> recipients;  // distinct users
        std::vector<NoteFile> files;
    };
    using Response = Note;
    /// 400 `unknown recipient` when a recipient is not a user of the tenant.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(CreateNote::Request, (), (tenant_id, sender_id, title, body, recipients, files))

/// The user's received notes, newest first; `before` continues after the last note_id seen.
struct ListInbox {
    static constexpr std::string_view kName = "session/notes/inbox";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // a note just sent shows up
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
        int limit = 50;
        std::optional<std::int64_t> before;
    };
    struct Response {
        std::vector<InboxItem> items;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(ListInbox::Request, (), (tenant_id, user_id, limit, before))
MSG_DESCRIBE_STRUCT(ListInbox::Response, (), (items))

/// A note as the viewer may see it: the sender sees every recipient, a recipient sees to and
/// cc (and themself), never another's bcc.
struct GetNote {
    static constexpr std::string_view kName = "session/notes/get";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // as ListInbox
    struct Request {
        std::string tenant_id;
        std::int64_t viewer_id = 0;
        std::int64_t note_id = 0;
    };
    struct Response {
        Note note;
        std::optional<std::string> recipient_type;  // the viewer's, when a recipient
        bool is_read = false;
        std::optional<std::string> read_at;
    };
    /// 404 `note not found` unless the viewer sent or received it.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(GetNote::Request, (), (tenant_id, viewer_id, note_id))
MSG_DESCRIBE_STRUCT(GetNote::Response, (), (note, recipient_type, is_read, read_at))

/// Marks the note read for the caller (the first read time stays). Not a recipient → no-op,
/// as the seed.
struct MarkNoteRead {
    static constexpr std::string_view kName = "session/notes/read";
    static constexpr bool kReadOnly = false;
    static constexpr bool kIdempotent = true;  // marks read once
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
        std::int64_t note_id = 0;
    };
    struct Response {
        bool updated = false;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(MarkNoteRead::Request, (), (tenant_id, user_id, note_id))
MSG_DESCRIBE_STRUCT(MarkNoteRead::Response, (), (updated))

/// Adds every operation above to the dbman registry (wire.cpp).
void register_operations(data::Registry& r);

}  // namespace msg::notes
