#pragma once

// Data operations of the chat module. Every statement filters by tenant_id; room-scoped
// operations assume the service already checked membership (Membership), except SendMessage,
// which checks it again inside its own statement.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/model.hpp"
#include "core/describe.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

namespace msg::pg {
class Connection;  // storage/pg/connection.hpp (libpq) stays out of this header
}

namespace msg::data {
class Registry;  // data/remote.hpp
}

namespace msg::chat {

struct CreateRoom {
    static constexpr std::string_view kName = "rooms/create";
    static constexpr bool kReadOnly = false;
    struct Request {
        std::string tenant_id;
        std::int64_t creator = 0;
        std::string name;
        std::string room_type;                 // group | direct (validated by the service)
        std::vector<std::int64_t> member_ids;  // without the creator, de-duplicated
    };
    struct Response {
        std::int64_t id = 0;
        bool created = false;  // false: the existing direct room of the pair
    };
    /// 400 `unknown member` when a member is not a user of the tenant.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(CreateRoom::Request, (), (tenant_id, creator, name, room_type, member_ids))
MSG_DESCRIBE_STRUCT(CreateRoom::Response, (), (id, created))

struct Membership {
    static constexpr std::string_view kName = "rooms/members/check";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // authorization: a removal is seen at once
    struct Request {
        std::string tenant_id;
        std::int64_t room_id = 0;
        std::int64_t user_id = 0;
    };
    struct Response {
        bool member = false;
        std::string room_type;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(Membership::Request, (), (tenant_id, room_id, user_id))
MSG_DESCRIBE_STRUCT(Membership::Response, (), (member, room_type))

/// A room the caller is a member of, and its last committed seq when that was asked.
struct MemberRoom {
    std::int64_t room_id = 0;
    std::int64_t last_seq = 0;
};
MSG_DESCRIBE_STRUCT(MemberRoom, (), (room_id, last_seq))

/// Which of `room_ids` the user is a member of (one query for a whole subscribe frame), with
/// each one's last committed seq.
struct MemberRooms {
    static constexpr std::string_view kName = "rooms/members/which";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // authorization, as Membership
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
        std::vector<std::int64_t> room_ids;
    };
    struct Response {
        std::vector<MemberRoom> rooms;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(MemberRooms::Request, (), (tenant_id, user_id, room_ids))
MSG_DESCRIBE_STRUCT(MemberRooms::Response, (), (rooms))

struct AddMember {
    static constexpr std::string_view kName = "rooms/members/add";
    static constexpr bool kReadOnly = false;
    static constexpr bool kIdempotent = true;  // ON CONFLICT: added once
    struct Request {
        std::string tenant_id;
        std::int64_t room_id = 0;
        std::int64_t user_id = 0;  // who joins
        std::int64_t actor = 0;    // who adds: must be a member, checked in the inserting statement
    };
    struct Response {
        bool added = false;  // false: already a member
    };
    /// 403 `room access denied` (no such room, or the actor is not in it — its membership row is
    /// locked, so a concurrent removal either waits or wins), 400 `cannot add members to a
    /// direct room`, 400 `unknown member` when the user is not a user of the tenant.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(AddMember::Request, (), (tenant_id, room_id, user_id, actor))
MSG_DESCRIBE_STRUCT(AddMember::Response, (), (added))

/// Takes `user_id` out of the room, if `actor` may: anyone may leave; the room's creator or an
/// admin of the tenant (`actor_is_admin`) may remove others. The rights are checked in the
/// statement that deletes. 403 `room access denied` (no such room, or the actor is neither in it
/// nor an admin), 403 `insufficient permissions`, 404 `member not found`.
struct RemoveMember {
    static constexpr std::string_view kName = "rooms/members/remove";
    static constexpr bool kReadOnly = false;
    struct Request {
        std::string tenant_id;
        std::int64_t room_id = 0;
        std::int64_t user_id = 0;
        std::int64_t actor = 0;
        bool actor_is_admin = false;
    };
    struct Response {};
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(RemoveMember::Request, (), (tenant_id, room_id, user_id, actor, actor_is_admin))

struct SendMessage {
    static constexpr std::string_view kName = "messages/send";
    static constexpr bool kReadOnly = false;
    struct Request;
    /// Sent again after a timeout only with a client_msg_id: a second run finds the first.
    static bool idempotent(const Request& r);
    struct Request {
        std::string tenant_id;
        std::int64_t room_id = 0;
        std::int64_t sender_id = 0;
        std::string body;
        std::string meta_json;
        std::optional<std::string> client_msg_id;
        std::vector<std::string> search_tokens;  // search::index_tokens(body)
    };
    struct Response {
        Message message;
        bool duplicate = false;  // an earlier send with the same client_msg_id
    };
    /// One statement: next seq under the room row lock, the message, the sender's watermark,
    /// the `message.created` outbox row. 403 `room access denied` for a non-member.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(SendMessage::Request, (),
                    (tenant_id, room_id, sender_id, body, meta_json, client_msg_id, search_tokens))
MSG_DESCRIBE_STRUCT(SendMessage::Response, (), (message, duplicate))

/// Several sends of one tenant in one statement and one commit (group commit; the caller is
/// chat/send_batcher.cpp). Each send keeps its own outcome, as SendMessage would give it:
/// stored with the room's next seq (sends of one room numbered in request order), a duplicate
/// of an earlier client_msg_id (one earlier in this batch included), or nullopt — not a
/// member, `room access denied`. One refused send never fails the others.
struct SendMessages {
    static constexpr std::string_view kName = "messages/send-batch";
    static constexpr bool kReadOnly = false;
    struct Request;
    /// As SendMessage: when every send has its client_msg_id.
    static bool idempotent(const Request& r);
    struct Request {
        std::string tenant_id;
        std::vector<SendMessage::Request> sends;  // each of tenant_id
    };
    struct Response {
        std::vector<std::optional<SendMessage::Response>> results;  // one per send, in order
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(SendMessages::Request, (), (tenant_id, sends))
MSG_DESCRIBE_STRUCT(SendMessages::Response, (), (results))

/// Candidates for a message search: messages of the caller's rooms whose search_tokens match
/// the tsquery, newest first (by id). The service verifies each against the query terms.
/// For a send with attachments: is the sender a member, and how many of `file_ids` are
/// registered files of the room (migration 006).
struct RoomFilesExist {
    static constexpr std::string_view kName = "messages/files-exist";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // a check before a write
    struct Request {
        std::string tenant_id;
        std::int64_t room_id = 0;
        std::int64_t user_id = 0;
        std::vector<std::int64_t> file_ids;
    };
    struct Response {
        bool member = false;
        std::int64_t found = 0;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(RoomFilesExist::Request, (), (tenant_id, room_id, user_id, file_ids))
MSG_DESCRIBE_STRUCT(RoomFilesExist::Response, (), (member, found))

struct SearchMessages {
    static constexpr std::string_view kName = "messages/search";
    static constexpr bool kReadOnly = true;
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
        std::string tsquery;                  // search::to_tsquery
        std::optional<std::int64_t> room_id;  // narrows to one room (membership checked)
        std::optional<std::int64_t> before_id;
        int limit = 30;
    };
    struct Response {
        std::vector<Message> items;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(SearchMessages::Request, (),
                    (tenant_id, user_id, tsquery, room_id, before_id, limit))
MSG_DESCRIBE_STRUCT(SearchMessages::Response, (), (items))

/// Backfill of search_tokens (messages from before migration 004): the next batch of
/// unindexed messages, and writing their tokens. Resumable: it only ever looks at NULLs.
struct UnindexedMessages {
    static constexpr std::string_view kName = "messages/unindexed";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // a keyset pass would skip a row a replica lacks
    struct Request {
        std::int64_t after_id = 0;  // keyset: one linear pass, not a rescan per batch
        int limit = 500;
    };
    struct Response {
        std::vector<std::int64_t> ids;
        std::vector<std::string> bodies;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(UnindexedMessages::Request, (), (after_id, limit))
MSG_DESCRIBE_STRUCT(UnindexedMessages::Response, (), (ids, bodies))

struct WriteSearchTokens {
    static constexpr std::string_view kName = "messages/search-tokens";
    static constexpr bool kReadOnly = false;
    static constexpr bool kIdempotent = true;  // writes the same tokens
    struct Request {
        std::vector<std::int64_t> ids;
        std::vector<std::string> tokens;  // per message, space-separated (tokens have no spaces)
    };
    struct Response {
        std::int64_t written = 0;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(WriteSearchTokens::Request, (), (ids, tokens))
MSG_DESCRIBE_STRUCT(WriteSearchTokens::Response, (), (written))

struct ListMessages {
    static constexpr std::string_view kName = "messages/list";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // agrees with the events a client already has
    struct Request {
        std::string tenant_id;
        std::int64_t room_id = 0;
        int limit = 50;
        std::optional<std::int64_t> before_seq;  // newest first, below this seq
        std::optional<std::int64_t> after_seq;   // oldest first, above this seq (gap fill)
        std::int64_t user_id = 0;                // the caller: must be a member
    };
    struct Response {
        std::vector<Message> items;
    };
    /// 403 `room access denied` unless the caller is a member (in the same statement).
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(ListMessages::Request, (),
                    (tenant_id, room_id, limit, before_seq, after_seq, user_id))
MSG_DESCRIBE_STRUCT(ListMessages::Response, (), (items))

/// What a socket's `resume` missed in all its rooms, one statement: for room_ids[i], the
/// messages above after_seqs[i] (at most `per_room`, oldest first), in request order — so at
/// most rooms × per_room rows. Rooms the caller is not a member of (checked in the same
/// statement) come back in `denied`.
struct ResumeRooms {
    static constexpr std::string_view kName = "messages/resume";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // as ListMessages
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
        std::vector<std::int64_t> room_ids;
        std::vector<std::int64_t> after_seqs;
        int per_room = 0;
    };
    struct Response {
        std::vector<Message> items;
        std::vector<std::int64_t> denied;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(ResumeRooms::Request, (), (tenant_id, user_id, room_ids, after_seqs, per_room))
MSG_DESCRIBE_STRUCT(ResumeRooms::Response, (), (items, denied))

struct MarkRead {
    static constexpr std::string_view kName = "messages/read";
    static constexpr bool kReadOnly = false;
    static constexpr bool kIdempotent = true;  // a watermark only moves forward
    struct Request {
        std::string tenant_id;
        std::int64_t room_id = 0;
        std::int64_t user_id = 0;
        std::int64_t message_id = 0;
    };
    struct Response {
        std::int64_t seq = 0;  // the message's seq
        bool moved = false;    // false: the watermark was already at or past it
    };
    /// 403 `room access denied` unless `user_id` is a member; 404 `message not found` when
    /// the message is not in the room.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(MarkRead::Request, (), (tenant_id, room_id, user_id, message_id))
MSG_DESCRIBE_STRUCT(MarkRead::Response, (), (seq, moved))

struct LastRead {
    static constexpr std::string_view kName = "messages/last-read";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // as ListMessages (receipts)
    using Request = Membership::Request;
    struct Response {
        std::optional<std::int64_t> message_id;
    };
    /// 403 `room access denied` unless `user_id` is a member (the same statement).
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(LastRead::Response, (), (message_id))

struct ListReaders {
    static constexpr std::string_view kName = "messages/readers";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // as ListMessages (receipts)
    struct Request {
        std::string tenant_id;
        std::int64_t room_id = 0;
        std::int64_t message_id = 0;
        std::int64_t user_id = 0;  // the caller: must be a member
    };
    struct Response {
        std::vector<Reader> items;
    };
    /// 403 `room access denied`, 404 `message not found`.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(ListReaders::Request, (), (tenant_id, room_id, message_id, user_id))
MSG_DESCRIBE_STRUCT(ListReaders::Response, (), (items))

struct UnreadCount {
    static constexpr std::string_view kName = "messages/unread-count";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // as ListMessages
    using Request = Membership::Request;
    struct Response {
        std::int64_t count = 0;
    };
    /// 403 `room access denied` unless `user_id` is a member (the same statement).
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(UnreadCount::Response, (), (count))

struct RoomUnread {
    std::int64_t room_id = 0;
    std::int64_t unread_count = 0;
};
MSG_DESCRIBE_STRUCT(RoomUnread, (), (room_id, unread_count))

struct UnreadCounts {
    static constexpr std::string_view kName = "messages/unread-counts";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // as UnreadCount
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
    };
    struct Response {
        std::vector<RoomUnread> items;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(UnreadCounts::Request, (), (tenant_id, user_id))
MSG_DESCRIBE_STRUCT(UnreadCounts::Response, (), (items))

struct ListRooms {
    static constexpr std::string_view kName = "rooms/list";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // as UnreadCount
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
        int limit = 50;
        std::optional<std::int64_t> cursor_unix_nanos;
        std::optional<std::int64_t> cursor_room_id;
    };
    struct Response {
        std::vector<RoomSummary> items;
    };
    /// The caller's rooms by last activity (newest first) with the newest message, the peer of
    /// a direct room, mention tokens matched against the caller's name, email local part and
    /// aliases, and the unread count.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(ListRooms::Request, (),
                    (tenant_id, user_id, limit, cursor_unix_nanos, cursor_room_id))
MSG_DESCRIBE_STRUCT(ListRooms::Response, (), (items))

/// Adds every operation above to the dbman registry (wire.cpp).
void register_operations(data::Registry& r);

}  // namespace msg::chat
