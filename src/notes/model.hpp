#pragma once

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/describe.hpp"

namespace msg::notes {

/// A file reference on a note: metadata only (the blob is uploaded through the files API).
struct NoteFile {
    std::string file_name;
    std::string object_key;
    std::string content_type;
    std::int64_t size_bytes = 0;
};
MSG_DESCRIBE_STRUCT(NoteFile, (), (file_name, object_key, content_type, size_bytes))

struct Recipient {
    std::int64_t user_id = 0;
    std::string type;  // to | cc | bcc
};
MSG_DESCRIBE_STRUCT(Recipient, (), (user_id, type))

struct Note {
    std::int64_t note_id = 0;
    std::string tenant_id;
    std::int64_t sender_user_id = 0;
    std::string title;
    std::string body;
    std::vector<Recipient> recipients;  // as the viewer may see them
    std::vector<NoteFile> files;
    std::string created_at;
};
MSG_DESCRIBE_STRUCT(Note, (),
                    (note_id, tenant_id, sender_user_id, title, body, recipients, files,
                     created_at))

/// One row of a recipient's inbox (seed NoteInboxItem, plus read_at).
struct InboxItem {
    std::int64_t note_id = 0;
    std::int64_t sender_user_id = 0;
    std::string recipient_type;
    std::string title;
    std::string body;
    int file_count = 0;
    bool is_read = false;
    std::optional<std::string> read_at;
    std::string created_at;
};
MSG_DESCRIBE_STRUCT(InboxItem, (),
                    (note_id, sender_user_id, recipient_type, title, body, file_count, is_read,
                     read_at, created_at))

boost::json::object to_json(const Note& n);
boost::json::object to_json(const InboxItem& i);
boost::json::array to_json(const std::vector<NoteFile>& files);

/// The recipients of a new note from its three lists: in order to…, cc…, bcc…, each user once
/// with the first type it appears under.
std::vector<Recipient> merge_recipients(const std::vector<std::int64_t>& to,
                                        const std::vector<std::int64_t>& cc,
                                        const std::vector<std::int64_t>& bcc);

// Bounds (bytes unless stated).
inline constexpr std::size_t kMaxTitleBytes = 200;
inline constexpr std::size_t kMaxBodyBytes = 32 * 1024;
inline constexpr std::size_t kMaxRecipients = 1000;  // over to + cc + bcc
inline constexpr std::size_t kMaxFiles = 20;
inline constexpr std::size_t kMaxFileNameBytes = 255;
inline constexpr std::size_t kMaxObjectKeyBytes = 512;
inline constexpr std::size_t kMaxContentTypeBytes = 128;

}  // namespace msg::notes
