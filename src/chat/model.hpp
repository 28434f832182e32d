#pragma once

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/describe.hpp"

namespace msg::chat {

struct Message {
    std::string tenant_id;
    std::int64_t id = 0;
    std::int64_t room_id = 0;
    std::int64_t seq = 0;
    std::int64_t sender_id = 0;
    std::string body;
    std::string meta_json;  // JSON text, as the seed (a string, not an object)
    std::optional<std::string> client_msg_id;
    std::string created_at;
    std::int64_t created_unix_nanos = 0;  // cursor key; not in the public JSON
};
MSG_DESCRIBE_STRUCT(Message, (),
                    (tenant_id, id, room_id, seq, sender_id, body, meta_json, client_msg_id,
                     created_at, created_unix_nanos))

struct RoomSummary {
    std::int64_t room_id = 0;
    std::string name;
    std::string room_type;
    std::int64_t created_by = 0;
    std::string created_at;
    std::optional<std::int64_t> peer_user_id;
    std::optional<std::string> peer_name, peer_status, peer_status_note;
    std::optional<Message> latest;
    std::vector<std::string> mention_tokens;
    bool is_mentioned = false;
    std::int64_t unread_count = 0;
    std::int64_t activity_unix_nanos = 0;  // sort/cursor key
};
MSG_DESCRIBE_STRUCT(RoomSummary, (),
                    (room_id, name, room_type, created_by, created_at, peer_user_id, peer_name,
                     peer_status, peer_status_note, latest, mention_tokens, is_mentioned,
                     unread_count, activity_unix_nanos))

struct Reader {
    std::int64_t room_id = 0;
    std::int64_t message_id = 0;
    std::int64_t user_id = 0;
    std::string read_at;
};
MSG_DESCRIBE_STRUCT(Reader, (), (room_id, message_id, user_id, read_at))

/// What a send carries besides the body; becomes meta_json.
struct Attachments {
    std::vector<std::int64_t> file_ids;  // de-duplicated, order kept
    std::optional<std::vector<std::string>> emojis;
};

/// meta_json as the seed builds it: `{"emojis":…}` (null when absent) plus `file_id` (the
/// first) and `file_ids` when there are files; keys sorted.
std::string make_meta_json(const Attachments& a);

/// `@token` captures of a body: ASCII letters, digits, `_`, Hangul and other letters after an
/// '@', distinct, in order of appearance.
std::vector<std::string> mention_tokens(std::string_view body);

/// Seed summary rules: kind `file` | `emoji` | `text`; summary `[파일]`, `[이모지]`, "" or the
/// first 120 characters of the body.
std::string message_kind(const boost::json::value& meta);
std::string message_summary(const Message& m, const boost::json::value& meta);

/// Public JSON: tenant_id, id, room_id, seq, sender_id, body, meta_json, emojis, file_ids,
/// mentions, client_msg_id (when given), created_at.
boost::json::value to_json(const Message& m);
boost::json::value to_json(const RoomSummary& r);
boost::json::value to_json(const Reader& r);

/// The one envelope of every frame a room's sockets receive, serialized once (the same bytes
/// go to the bus and to every recipient), keys in seed order:
/// `{"type","room_id","user_id","target_id","payload"}`; `target_id` is "" when untargeted.
std::shared_ptr<const std::string> room_frame(std::string_view type, std::int64_t room_id,
                                              std::int64_t user_id,
                                              std::optional<std::int64_t> target_id,
                                              const boost::json::value& payload);

/// `rank=relevance`: reciprocal rank fusion (k = 60) of two orders of the same page, the text
/// order (by `text_scores`, descending) and the vector order (by `vector_scores`, descending;
/// items without one take no part in it). Ties keep the original (newest-first) order.
/// Returns the new order as indices into the page.
std::vector<std::size_t> relevance_order(const std::vector<double>& text_scores,
                                         const std::vector<std::optional<double>>& vector_scores);

inline constexpr std::size_t kMaxBodyBytes = 16 * 1024;
inline constexpr std::size_t kMaxRoomNameBytes = 200;
inline constexpr std::size_t kMaxMembersPerRequest = 1000;
inline constexpr std::size_t kMaxAttachments = 20;
inline constexpr std::size_t kMaxEmojiBytes = 64;
inline constexpr std::size_t kMaxClientMsgIdBytes = 128;
inline constexpr std::size_t kMaxSearchQueryChars = 200;

}  // namespace msg::chat
