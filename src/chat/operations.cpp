#include "chat/operations.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <tuple>

#include "core/text.hpp"
#include "data/executor.hpp"
#include "storage/pg/connection.hpp"

namespace msg::chat {

namespace {

#define MSG_MESSAGE_COLUMNS \
    "tenant_id, id, room_id, seq, sender_id, body, meta_json::text, client_msg_id, created_at"

Message message_from(const pg::Rows& r, int i, int base = 0) {
    Message m;
    m.tenant_id = r.string(i, base + 0);
    m.id = r.int64(i, base + 1);
    m.room_id = r.int64(i, base + 2);
    m.seq = r.int64(i, base + 3);
    m.sender_id = r.int64(i, base + 4);
    m.body = r.string(i, base + 5);
    m.meta_json = r.string(i, base + 6);
    if (!r.is_null(i, base + 7)) m.client_msg_id = r.string(i, base + 7);
    m.created_at = r.time(i, base + 8);
    m.created_unix_nanos = r.unix_nanos(i, base + 8);
    return m;
}

constexpr std::string_view kCountTenantUsers =
    "SELECT count(*) FROM users WHERE tenant_id = $1 AND id = ANY($2::bigint[])";
constexpr std::string_view kFindDirect =
    "SELECT id FROM chat_rooms WHERE tenant_id = $1 AND direct_key = $2";
constexpr std::string_view kInsertRoom =
    "INSERT INTO chat_rooms (tenant_id, name, room_type, created_by, direct_key)"
    " VALUES ($1, $2, $3, $4, $5) RETURNING id";
constexpr std::string_view kInsertMembers =
    "INSERT INTO room_members (tenant_id, room_id, user_id)"
    " SELECT $1, $2, unnest($3::bigint[]) ON CONFLICT DO NOTHING";

constexpr std::string_view kMembership =
    "SELECT r.room_type, EXISTS (SELECT 1 FROM room_members m WHERE m.tenant_id = r.tenant_id"
    "   AND m.room_id = r.id AND m.user_id = $3)"
    " FROM chat_rooms r WHERE r.tenant_id = $1 AND r.id = $2";
// The actor's membership row is locked (FOR SHARE): a removal running at the same time either
// commits first (then the row is gone and nothing is added) or waits for this insert.
constexpr std::string_view kAddMember =
    "WITH actor AS ("
    "  SELECT r.room_type, EXISTS (SELECT 1 FROM room_members m"
    "     WHERE m.tenant_id = $1 AND m.room_id = $2 AND m.user_id = $4 FOR SHARE) AS member"
    "  FROM chat_rooms r WHERE r.tenant_id = $1 AND r.id = $2"
    "), added AS ("
    "  INSERT INTO room_members (tenant_id, room_id, user_id)"
    "  SELECT $1, $2, $3 FROM actor WHERE actor.member AND actor.room_type <> 'direct'"
    "  ON CONFLICT DO NOTHING RETURNING 1"
    ")"
    " SELECT coalesce((SELECT member FROM actor), false), (SELECT room_type FROM actor),"
    "        (SELECT count(*) FROM added)";

constexpr std::string_view kFindByClientId =
    "SELECT " MSG_MESSAGE_COLUMNS
    " FROM messages"
    " WHERE tenant_id = $1 AND room_id = $2 AND sender_id = $3 AND client_msg_id = $4";

// One statement, so one implicit transaction and one round trip: a repeated client_msg_id
// (`existing`) skips the insert and returns the original with duplicate = true; a failure
// anywhere (a concurrent duplicate client_msg_id included) rolls the seq increment back too,
// so seq stays gap-free.
constexpr std::string_view kSend =
    "WITH existing AS ("
    "  SELECT " MSG_MESSAGE_COLUMNS
    "  FROM messages"
    "  WHERE $6::text IS NOT NULL AND tenant_id = $1 AND room_id = $2 AND sender_id = $3"
    "    AND client_msg_id = $6),"
    " room AS ("
    "  UPDATE chat_rooms r SET last_seq = r.last_seq + 1, last_activity_at = now()"
    "  WHERE r.tenant_id = $1 AND r.id = $2 AND NOT EXISTS (SELECT 1 FROM existing)"
    "    AND EXISTS (SELECT 1 FROM room_members m"
    "      WHERE m.tenant_id = $1 AND m.room_id = $2 AND m.user_id = $3)"
    "  RETURNING r.last_seq),"
    " msg AS ("
    "  INSERT INTO messages"
    "    (tenant_id, room_id, seq, sender_id, body, meta_json, client_msg_id, search_tokens)"
    "  SELECT $1, $2, room.last_seq, $3, $4, $5::jsonb, $6, array_to_tsvector($7::text[])"
    "  FROM room"
    "  RETURNING " MSG_MESSAGE_COLUMNS
    "),"
    " watermark AS ("
    "  UPDATE room_members m SET last_read_seq = msg.seq, last_read_at = msg.created_at FROM msg"
    "  WHERE m.tenant_id = $1 AND m.room_id = $2 AND m.user_id = $3 AND m.last_read_seq < msg.seq),"
    " event AS ("
    "  INSERT INTO outbox (tenant_id, topic, payload)"
    "  SELECT $1, 'message.created', jsonb_build_object('id', msg.id, 'room_id', msg.room_id,"
    "    'seq', msg.seq, 'sender_id', msg.sender_id, 'body', msg.body) FROM msg)"
    " SELECT *, false FROM msg UNION ALL SELECT *, true FROM existing";

// Several sends of one tenant in one statement (group commit, chat/send_batcher.cpp): the
// same steps as kSend, set-wise. Input rows are numbered ($2 idx); the caller has already
// folded repeats of one client_msg_id within the batch. `fresh` keeps the sends of members
// whose client_msg_id is new and numbers them per room in idx order; `locked` takes the room
// rows in id order — two batches (of two nodes) never deadlock over rooms they share — and
// `room` moves each room's last_seq by its count; the n-th fresh send of a room gets base + n.
// Tokens come flattened ($8 idx, $9 token) since SQL arrays cannot be ragged.
// Each output row names its idx; an idx without a row was refused (not a member).
constexpr std::string_view kSendBatch =
    "WITH input AS ("
    "  SELECT * FROM unnest($2::int[], $3::bigint[], $4::bigint[], $5::text[], $6::text[],"
    "    $7::text[]) AS i(idx, room_id, sender_id, body, meta, client_msg_id)),"
    " tokens AS ("
    "  SELECT t.idx, array_agg(t.token) AS tokens"
    "  FROM unnest($8::int[], $9::text[]) AS t(idx, token) GROUP BY t.idx),"
    " existing AS ("
    "  SELECT i.idx, m.tenant_id, m.id, m.room_id, m.seq, m.sender_id, m.body,"
    "    m.meta_json::text, m.client_msg_id, m.created_at"
    "  FROM input i JOIN messages m ON m.tenant_id = $1 AND m.room_id = i.room_id"
    "    AND m.sender_id = i.sender_id AND m.client_msg_id = i.client_msg_id),"
    " fresh AS ("
    "  SELECT i.*, row_number() OVER (PARTITION BY i.room_id ORDER BY i.idx) AS n"
    "  FROM input i"
    "  WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.idx = i.idx)"
    "    AND EXISTS (SELECT 1 FROM room_members m"
    "      WHERE m.tenant_id = $1 AND m.room_id = i.room_id AND m.user_id = i.sender_id)),"
    " counts AS (SELECT room_id, count(*) AS n FROM fresh GROUP BY room_id),"
    " locked AS ("
    "  SELECT r.id FROM chat_rooms r"
    "  WHERE r.tenant_id = $1 AND r.id IN (SELECT room_id FROM counts)"
    "  ORDER BY r.id FOR UPDATE),"
    " room AS ("
    "  UPDATE chat_rooms r SET last_seq = r.last_seq + c.n, last_activity_at = now()"
    "  FROM counts c, locked l"
    "  WHERE r.tenant_id = $1 AND r.id = c.room_id AND l.id = c.room_id"
    "  RETURNING r.id, r.last_seq - c.n AS base),"
    " msg AS ("
    "  INSERT INTO messages"
    "    (tenant_id, room_id, seq, sender_id, body, meta_json, client_msg_id, search_tokens)"
    "  SELECT $1, f.room_id, room.base + f.n, f.sender_id, f.body, f.meta::jsonb,"
    "    f.client_msg_id, array_to_tsvector(coalesce(t.tokens, '{}'::text[]))"
    "  FROM fresh f JOIN room ON room.id = f.room_id LEFT JOIN tokens t ON t.idx = f.idx"
    "  ORDER BY f.room_id, f.n"
    "  RETURNING " MSG_MESSAGE_COLUMNS
    "),"
    " watermark AS ("
    "  UPDATE room_members m SET last_read_seq = w.seq, last_read_at = w.at"
    "  FROM (SELECT room_id, sender_id, max(seq) AS seq, max(created_at) AS at"
    "        FROM msg GROUP BY room_id, sender_id) w"
    "  WHERE m.tenant_id = $1 AND m.room_id = w.room_id AND m.user_id = w.sender_id"
    "    AND m.last_read_seq < w.seq),"
    " event AS ("
    "  INSERT INTO outbox (tenant_id, topic, payload)"
    "  SELECT $1, 'message.created', jsonb_build_object('id', msg.id, 'room_id', msg.room_id,"
    "    'seq', msg.seq, 'sender_id', msg.sender_id, 'body', msg.body) FROM msg)"
    " SELECT msg.*, false, f.idx FROM msg JOIN room ON room.id = msg.room_id"
    "   JOIN fresh f ON f.room_id = msg.room_id AND room.base + f.n = msg.seq"
    " UNION ALL"
    " SELECT e.tenant_id, e.id, e.room_id, e.seq, e.sender_id, e.body, e.meta_json,"
    "   e.client_msg_id, e.created_at, true, e.idx FROM existing e";

// GIN on search_tokens finds candidates; membership is part of the query, so a room the
// caller is not in never contributes.
// Search runs in two phases (bench/README "Search"). The planner multiplies the selectivities
// of a term's bigrams as if they were independent, so for a term in 1 % of the rows it expects
// one row and takes a GIN bitmap over every match plus a sort (120 ms at 1M messages). So:
// 1. the newest kSearchWindow messages below the cursor, scanned backwards by id and stopped
//    as soon as enough match — bounded work, and it answers every term common enough to fill a
//    page from them;
// 2. only if that came up short, the GIN index below the window, replanned per call.
// Membership is a bigint[] of the caller's rooms (a nested loop over room_members with the
// planner's one-row estimate cost another 120 ms).
constexpr std::int64_t kSearchWindow = 10000;
constexpr std::string_view kMemberRooms =
    "SELECT coalesce(array_agg(room_id), '{}') FROM room_members"
    " WHERE tenant_id = $1 AND user_id = $2";
constexpr std::string_view kSearchWindowed =
    "SELECT " MSG_MESSAGE_COLUMNS
    " FROM (SELECT * FROM messages WHERE ($4::bigint IS NULL OR id < $4)"
    "       ORDER BY id DESC LIMIT $5) m"
    " WHERE m.tenant_id = $1 AND m.room_id = ANY($2::bigint[]) AND m.search_tokens @@ $3::tsquery"
    " ORDER BY m.id DESC LIMIT $6";
constexpr std::string_view kWindowFloor =
    "SELECT min(id) FROM (SELECT id FROM messages WHERE ($1::bigint IS NULL OR id < $1)"
    " ORDER BY id DESC LIMIT $2) w";
constexpr std::string_view kSearch =
    "SELECT " MSG_MESSAGE_COLUMNS
    " FROM messages m"
    " WHERE m.tenant_id = $1 AND m.room_id = ANY($2::bigint[]) AND m.search_tokens @@ $3::tsquery"
    "   AND ($4::bigint IS NULL OR m.id < $4)"
    " ORDER BY m.id DESC LIMIT $5";

constexpr std::string_view kRoomFilesExist =
    "SELECT EXISTS (SELECT 1 FROM room_members WHERE tenant_id = $1 AND room_id = $2"
    "   AND user_id = $3),"
    " (SELECT count(*) FROM files WHERE tenant_id = $1 AND room_id = $2"
    "   AND id = ANY($4::bigint[]))";

// All tenants: the backfill is an operator command.
constexpr std::string_view kUnindexed =
    "SELECT id, body FROM messages WHERE id > $1 AND search_tokens IS NULL ORDER BY id LIMIT $2";
constexpr std::string_view kWriteTokens =
    "UPDATE messages m SET search_tokens = array_to_tsvector(string_to_array(u.tokens, ' '))"
    " FROM unnest($1::bigint[], $2::text[]) AS u(id, tokens) WHERE m.id = u.id";

// Room-scoped reads and writes carry the caller's membership in the same statement ($N is the
// caller): a removal committed before the statement leaves it nothing to read or move, even
// when the service's earlier answer said "member".
#define MSG_IS_MEMBER(user)                                                    \
    "EXISTS (SELECT 1 FROM room_members WHERE tenant_id = $1 AND room_id = $2" \
    " AND user_id = " user ")"

// One page and the caller's membership in one round trip: always one row at least (g), the
// message columns NULL when there is no message or no membership; `ok` is the last column.
constexpr std::string_view kListBefore =
    "SELECT m.*, g.ok FROM (SELECT " MSG_IS_MEMBER("$5") " AS ok) g"
    " LEFT JOIN LATERAL (SELECT " MSG_MESSAGE_COLUMNS
    "   FROM messages WHERE tenant_id = $1 AND room_id = $2"
    "   AND ($3::bigint IS NULL OR seq < $3) ORDER BY seq DESC LIMIT $4) m ON g.ok"
    " ORDER BY m.seq DESC";
constexpr std::string_view kListAfter =
    "SELECT m.*, g.ok FROM (SELECT " MSG_IS_MEMBER("$5") " AS ok) g"
    " LEFT JOIN LATERAL (SELECT " MSG_MESSAGE_COLUMNS
    "   FROM messages WHERE tenant_id = $1 AND room_id = $2"
    "   AND seq > $3 ORDER BY seq ASC LIMIT $4) m ON g.ok"
    " ORDER BY m.seq ASC";
constexpr int kListOkColumn = 9;  // after the MSG_MESSAGE_COLUMNS
// A resume over many rooms (ResumeRooms): message columns first (message_from), then the room
// and the membership flag.
constexpr std::string_view kResume =
    "SELECT m.*, w.room_id, g.ok"
    " FROM unnest($3::bigint[], $4::bigint[]) WITH ORDINALITY AS w(room_id, after_seq, ord)"
    " CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM room_members WHERE tenant_id = $1"
    "   AND room_id = w.room_id AND user_id = $2) AS ok) g"
    " LEFT JOIN LATERAL (SELECT " MSG_MESSAGE_COLUMNS
    "   FROM messages WHERE tenant_id = $1 AND room_id = w.room_id AND seq > w.after_seq"
    "   ORDER BY seq ASC LIMIT $5) m ON g.ok"
    " ORDER BY w.ord, m.seq";

// The caller's membership and the message's seq (NULL: not in the room).
constexpr std::string_view kMemberMessageSeq =
    "SELECT " MSG_IS_MEMBER("$4") ","
    " (SELECT seq FROM messages WHERE tenant_id = $1 AND room_id = $2 AND id = $3)";
constexpr std::string_view kMoveWatermark =
    "UPDATE room_members SET last_read_seq = $4, last_read_at = now()"
    " WHERE tenant_id = $1 AND room_id = $2 AND user_id = $3 AND last_read_seq < $4";
constexpr std::string_view kLastRead =
    "SELECT m.id FROM room_members rm LEFT JOIN messages m ON m.tenant_id = rm.tenant_id"
    " AND m.room_id = rm.room_id AND m.seq = rm.last_read_seq"
    " WHERE rm.tenant_id = $1 AND rm.room_id = $2 AND rm.user_id = $3";
constexpr std::string_view kReaders =
    "SELECT user_id, last_read_at FROM room_members"
    " WHERE tenant_id = $1 AND room_id = $2 AND last_read_seq >= $3 AND " MSG_IS_MEMBER(
        "$4") " ORDER BY last_read_at, user_id LIMIT 10000";
// The one definition of unread: messages from others above the member's watermark (`rm` is
// the member's room_members row). A range count on (tenant_id, room_id, seq).
#define MSG_UNREAD_OF_RM                                                \
    "(SELECT count(*) FROM messages x WHERE x.tenant_id = rm.tenant_id" \
    " AND x.room_id = rm.room_id AND x.seq > rm.last_read_seq AND x.sender_id <> rm.user_id)"

constexpr std::string_view kUnreadCount =
    "SELECT " MSG_UNREAD_OF_RM
    " FROM room_members rm"
    " WHERE rm.tenant_id = $1 AND rm.room_id = $2 AND rm.user_id = $3";
constexpr std::string_view kUnreadCounts =
    "SELECT rm.room_id, " MSG_UNREAD_OF_RM
    " FROM room_members rm"
    " WHERE rm.tenant_id = $1 AND rm.user_id = $2 ORDER BY rm.room_id LIMIT 10000";

constexpr std::string_view kCaller =
    "SELECT name, email FROM users WHERE tenant_id = $1 AND id = $2";
constexpr std::string_view kCallerAliases =
    "SELECT alias FROM user_aliases WHERE tenant_id = $1 AND user_id = $2";
constexpr std::string_view kListRooms =
    "SELECT r.id, r.name, r.room_type, r.created_by, r.created_at, r.last_activity_at,"
    "  p.id, p.name, p.status, p.status_note,"
    "  " MSG_UNREAD_OF_RM
    ","
    "  m.tenant_id, m.id, m.room_id, m.seq, m.sender_id, m.body, m.meta_json::text,"
    "  m.client_msg_id, m.created_at"
    " FROM room_members rm"
    " JOIN chat_rooms r ON r.tenant_id = rm.tenant_id AND r.id = rm.room_id"
    " LEFT JOIN messages m ON m.tenant_id = r.tenant_id AND m.room_id = r.id AND m.seq = r.last_seq"
    " LEFT JOIN LATERAL (SELECT u.id, u.name, u.status, u.status_note FROM room_members o"
    "   JOIN users u ON u.tenant_id = o.tenant_id AND u.id = o.user_id"
    "   WHERE r.room_type = 'direct' AND o.tenant_id = r.tenant_id AND o.room_id = r.id"
    "     AND o.user_id <> rm.user_id ORDER BY o.joined_at, o.user_id LIMIT 1) p ON true"
    " WHERE rm.tenant_id = $1 AND rm.user_id = $2"
    "   AND ($3::bigint IS NULL OR (r.last_activity_at, r.id) <"
    "        ('epoch'::timestamptz + $3::bigint * interval '1 microsecond', $4::bigint))"
    " ORDER BY r.last_activity_at DESC, r.id DESC LIMIT $5";

#undef MSG_MESSAGE_COLUMNS
#undef MSG_UNREAD_OF_RM

}  // namespace

core::Task<core::Result<CreateRoom::Response>> CreateRoom::run(pg::Connection& c,
                                                               const Request& r) {
    std::vector<std::int64_t> everyone = r.member_ids;
    everyone.push_back(r.creator);
    std::sort(everyone.begin(), everyone.end());
    everyone.erase(std::unique(everyone.begin(), everyone.end()), everyone.end());

    auto known = co_await c.query(kCountTenantUsers, r.tenant_id, everyone);
    if (known.int64(0, 0) != static_cast<std::int64_t>(everyone.size())) {
        co_return core::invalid("unknown member");
    }
    std::optional<std::string> direct_key;
    if (r.room_type == "direct") {
        direct_key = std::to_string(everyone.front()) + ":" + std::to_string(everyone.back());
        auto existing = co_await c.query(kFindDirect, r.tenant_id, direct_key);
        if (!existing.empty()) co_return Response{existing.int64(0, 0), false};
    }
    std::optional<std::int64_t> id;
    co_await data::begin(c);
    try {
        auto room =
            co_await c.query(kInsertRoom, r.tenant_id, r.name, r.room_type, r.creator, direct_key);
        id = room.int64(0, 0);
        co_await c.query(kInsertMembers, r.tenant_id, *id, everyone);
        co_await data::commit(c);
    } catch (const pg::SqlError& e) {
        // A concurrent create of the same direct pair won the unique index: use its room.
        if (!e.unique_violation() || !direct_key) throw;
        id.reset();
    }
    if (!id) {
        co_await data::rollback(c);
        auto existing = co_await c.query(kFindDirect, r.tenant_id, direct_key);
        co_return Response{existing.int64(0, 0), false};
    }
    co_return Response{*id, true};
}

core::Task<core::Result<Membership::Response>> Membership::run(pg::Connection& c,
                                                               const Request& r) {
    auto rows = co_await c.query(kMembership, r.tenant_id, r.room_id, r.user_id);
    if (rows.empty()) co_return Response{};
    co_return Response{rows.boolean(0, 1), rows.string(0, 0)};
}

core::Task<core::Result<MemberRooms::Response>> MemberRooms::run(pg::Connection& c,
                                                                 const Request& r) {
    static constexpr std::string_view kWhich =
        "SELECT m.room_id, r.last_seq FROM room_members m JOIN chat_rooms r"
        "   ON r.tenant_id = m.tenant_id AND r.id = m.room_id"
        " WHERE m.tenant_id = $1 AND m.user_id = $2 AND m.room_id = ANY($3::bigint[])";
    auto rows = co_await c.query(kWhich, r.tenant_id, r.user_id, r.room_ids);
    Response out;
    out.rooms.reserve(static_cast<std::size_t>(rows.size()));
    for (int i = 0; i < rows.size(); ++i) out.rooms.push_back({rows.int64(i, 0), rows.int64(i, 1)});
    co_return out;
}

core::Task<core::Result<AddMember::Response>> AddMember::run(pg::Connection& c, const Request& r) {
    try {
        auto rows = co_await c.query(kAddMember, r.tenant_id, r.room_id, r.user_id, r.actor);
        if (!rows.boolean(0, 0)) co_return core::forbidden("room access denied");
        if (rows.string(0, 1) == "direct") {
            co_return core::invalid("cannot add members to a direct room");
        }
        co_return Response{rows.int64(0, 2) == 1};
    } catch (const pg::SqlError& e) {
        if (!e.foreign_key_violation()) throw;
        co_return core::invalid("unknown member");
    }
}

namespace {
constexpr std::string_view kRemoveMember =
    "WITH actor AS ("
    "  SELECT r.created_by = $4 AS creator,"
    "         EXISTS (SELECT 1 FROM room_members m"
    "                 WHERE m.tenant_id = $1 AND m.room_id = $2 AND m.user_id = $4) AS member"
    "  FROM chat_rooms r WHERE r.tenant_id = $1 AND r.id = $2"
    "), removed AS ("
    "  DELETE FROM room_members m USING actor"
    "  WHERE m.tenant_id = $1 AND m.room_id = $2 AND m.user_id = $3"
    "    AND (actor.member OR $5) AND ($3 = $4 OR actor.creator OR $5)"
    "  RETURNING m.user_id"
    ")"
    " SELECT EXISTS (SELECT 1 FROM actor), coalesce((SELECT member FROM actor), false),"
    "        coalesce((SELECT creator FROM actor), false), (SELECT count(*) FROM removed)";
}  // namespace

core::Task<core::Result<RemoveMember::Response>> RemoveMember::run(pg::Connection& c,
                                                                   const Request& r) {
    auto rows = co_await c.query(kRemoveMember, r.tenant_id, r.room_id, r.user_id, r.actor,
                                 r.actor_is_admin);
    const bool room = rows.boolean(0, 0), member = rows.boolean(0, 1), creator = rows.boolean(0, 2);
    if (!room || (!member && !r.actor_is_admin)) co_return core::forbidden("room access denied");
    if (rows.int64(0, 3) == 1) co_return Response{};
    if (r.user_id == r.actor || creator || r.actor_is_admin) {
        co_return core::not_found("member not found");
    }
    co_return core::forbidden("insufficient permissions");
}

bool SendMessage::idempotent(const Request& r) { return r.client_msg_id.has_value(); }

bool SendMessages::idempotent(const Request& r) {
    return std::all_of(r.sends.begin(), r.sends.end(), &SendMessage::idempotent);
}

core::Task<core::Result<SendMessage::Response>> SendMessage::run(pg::Connection& c,
                                                                 const Request& r) {
    try {
        auto rows = co_await c.query(kSend, r.tenant_id, r.room_id, r.sender_id, r.body,
                                     r.meta_json, r.client_msg_id, r.search_tokens);
        if (rows.empty()) co_return core::forbidden("room access denied");
        co_return Response{message_from(rows, 0), rows.boolean(0, 9)};
    } catch (const pg::SqlError& e) {
        // A concurrent send with the same client_msg_id committed first: answer with it below
        // (a co_await may not sit inside a handler).
        if (!e.unique_violation() || e.constraint() != "messages_client_msg_id") throw;
    }
    auto existing =
        co_await c.query(kFindByClientId, r.tenant_id, r.room_id, r.sender_id, r.client_msg_id);
    co_return Response{message_from(existing, 0), true};
}

core::Task<core::Result<SendMessages::Response>> SendMessages::run(pg::Connection& c,
                                                                   const Request& r) {
    // Repeats of one client_msg_id inside the batch go to SQL once; the rest answer with the
    // first one's outcome, as duplicates.
    const auto n = r.sends.size();
    std::vector<std::size_t> first_of(n);
    std::map<std::tuple<std::int64_t, std::int64_t, std::string_view>, std::size_t> seen;
    std::vector<std::int64_t> idx, rooms, senders, token_idx;
    std::vector<std::string> bodies, metas, tokens;
    std::vector<std::optional<std::string>> client_ids;
    for (std::size_t i = 0; i < n; ++i) {
        const auto& s = r.sends[i];
        if (s.tenant_id != r.tenant_id) throw std::invalid_argument("a batch holds one tenant");
        first_of[i] = i;
        if (s.client_msg_id) {
            auto [it, fresh] = seen.try_emplace({s.room_id, s.sender_id, *s.client_msg_id}, i);
            if (!fresh) {
                first_of[i] = it->second;
                continue;
            }
        }
        idx.push_back(static_cast<std::int64_t>(i));
        rooms.push_back(s.room_id);
        senders.push_back(s.sender_id);
        bodies.push_back(s.body);
        metas.push_back(s.meta_json);
        client_ids.push_back(s.client_msg_id);
        for (const auto& t : s.search_tokens) {
            token_idx.push_back(static_cast<std::int64_t>(i));
            tokens.push_back(t);
        }
    }
    Response out;
    out.results.resize(n);
    bool conflict = false;
    try {
        auto rows = co_await c.query(kSendBatch, r.tenant_id, idx, rooms, senders, bodies, metas,
                                     client_ids, token_idx, tokens);
        for (int row = 0; row < rows.size(); ++row) {
            const auto i = static_cast<std::size_t>(rows.int64(row, 10));
            out.results[i] = SendMessage::Response{message_from(rows, row), rows.boolean(row, 9)};
        }
    } catch (const pg::SqlError& e) {
        // A send with one of these client_msg_ids committed meanwhile (through another node):
        // the statement wrote nothing. Each send then goes alone, which answers that one with
        // the stored original (a co_await may not sit inside a handler).
        if (!e.unique_violation() || e.constraint() != "messages_client_msg_id") throw;
        conflict = true;
    }
    if (conflict) {
        for (const auto i : idx) {
            const auto& one = r.sends[static_cast<std::size_t>(i)];
            auto single = co_await SendMessage::run(c, one);
            if (single) out.results[static_cast<std::size_t>(i)] = std::move(*single);
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (first_of[i] == i || !out.results[first_of[i]]) continue;
        out.results[i] = out.results[first_of[i]];
        out.results[i]->duplicate = true;
    }
    co_return out;
}

core::Task<core::Result<SearchMessages::Response>> SearchMessages::run(pg::Connection& c,
                                                                       const Request& r) {
    Response out;
    std::vector<std::int64_t> rooms;
    if (r.room_id) {
        rooms.push_back(*r.room_id);  // membership was checked by the caller
    } else {
        auto member = co_await c.query(kMemberRooms, r.tenant_id, r.user_id);
        rooms = member.int64_array(0, 0);
        if (rooms.empty()) co_return out;
    }
    const auto room_param = pg::param(rooms);
    auto add_rows = [&out](const pg::Rows& rows) {
        for (int i = 0; i < rows.size(); ++i) out.items.push_back(message_from(rows, i));
    };
    std::optional<std::int64_t> below = r.before_id;
    if (!r.room_id) {  // one room's messages are too sparse in the global window
        auto recent = co_await c.query(kSearchWindowed, r.tenant_id, room_param, r.tsquery,
                                       r.before_id, kSearchWindow, r.limit);
        add_rows(recent);
        if (recent.size() >= r.limit) co_return out;
        auto floor = co_await c.query(kWindowFloor, r.before_id, kSearchWindow);
        if (floor.is_null(0, 0)) co_return out;  // the window held every message
        below = floor.int64(0, 0);
    }
    const int rest = r.limit - static_cast<int>(out.items.size());
    // Replanned each time: the right plan depends on how common the terms are.
    auto older =
        co_await c.query_replanned(kSearch, r.tenant_id, room_param, r.tsquery, below, rest);
    add_rows(older);
    co_return out;
}

core::Task<core::Result<RoomFilesExist::Response>> RoomFilesExist::run(pg::Connection& c,
                                                                       const Request& r) {
    const auto ids = pg::param(r.file_ids);
    auto rows = co_await c.query(kRoomFilesExist, r.tenant_id, r.room_id, r.user_id, ids);
    co_return Response{rows.boolean(0, 0), rows.int64(0, 1)};
}

core::Task<core::Result<UnindexedMessages::Response>> UnindexedMessages::run(pg::Connection& c,
                                                                             const Request& r) {
    auto rows = co_await c.query(kUnindexed, r.after_id, r.limit);
    Response out;
    for (int i = 0; i < rows.size(); ++i) {
        out.ids.push_back(rows.int64(i, 0));
        out.bodies.push_back(rows.string(i, 1));
    }
    co_return out;
}

core::Task<core::Result<WriteSearchTokens::Response>> WriteSearchTokens::run(pg::Connection& c,
                                                                             const Request& r) {
    auto rows = co_await c.query(kWriteTokens, r.ids, r.tokens);
    co_return Response{rows.affected()};
}

core::Task<core::Result<ListMessages::Response>> ListMessages::run(pg::Connection& c,
                                                                   const Request& r) {
    // if/else, not ?: — GCC 12 double-destroys a co_await result inside a conditional operator.
    pg::Rows rows;
    if (r.after_seq) {
        rows =
            co_await c.query(kListAfter, r.tenant_id, r.room_id, r.after_seq, r.limit, r.user_id);
    } else {
        rows =
            co_await c.query(kListBefore, r.tenant_id, r.room_id, r.before_seq, r.limit, r.user_id);
    }
    if (rows.empty() || !rows.boolean(0, kListOkColumn)) {
        co_return core::forbidden("room access denied");
    }
    Response out;
    if (rows.is_null(0, 0)) co_return out;  // a member, no messages
    out.items.reserve(static_cast<std::size_t>(rows.size()));
    for (int i = 0; i < rows.size(); ++i) out.items.push_back(message_from(rows, i));
    co_return out;
}

core::Task<core::Result<ResumeRooms::Response>> ResumeRooms::run(pg::Connection& c,
                                                                 const Request& r) {
    constexpr int kRoomColumn = kListOkColumn, kOkColumn = kListOkColumn + 1;
    auto rows =
        co_await c.query(kResume, r.tenant_id, r.user_id, r.room_ids, r.after_seqs, r.per_room);
    Response out;
    for (int i = 0; i < rows.size(); ++i) {
        if (!rows.boolean(i, kOkColumn)) {
            out.denied.push_back(rows.int64(i, kRoomColumn));
        } else if (!rows.is_null(i, 0)) {
            out.items.push_back(message_from(rows, i));
        }
    }
    co_return out;
}

core::Task<core::Result<MarkRead::Response>> MarkRead::run(pg::Connection& c, const Request& r) {
    auto target =
        co_await c.query(kMemberMessageSeq, r.tenant_id, r.room_id, r.message_id, r.user_id);
    if (!target.boolean(0, 0)) co_return core::forbidden("room access denied");
    if (target.is_null(0, 1)) co_return core::not_found("message not found");
    const std::int64_t seq = target.int64(0, 1);
    // The watermark is the caller's own membership row: gone with a removal, nothing moves.
    auto moved = co_await c.query(kMoveWatermark, r.tenant_id, r.room_id, r.user_id, seq);
    co_return Response{seq, moved.affected() > 0};
}

core::Task<core::Result<LastRead::Response>> LastRead::run(pg::Connection& c, const Request& r) {
    auto rows = co_await c.query(kLastRead, r.tenant_id, r.room_id, r.user_id);
    if (rows.empty()) co_return core::forbidden("room access denied");
    co_return Response{rows.opt_int64(0, 0)};
}

core::Task<core::Result<ListReaders::Response>> ListReaders::run(pg::Connection& c,
                                                                 const Request& r) {
    auto target =
        co_await c.query(kMemberMessageSeq, r.tenant_id, r.room_id, r.message_id, r.user_id);
    if (!target.boolean(0, 0)) co_return core::forbidden("room access denied");
    if (target.is_null(0, 1)) co_return core::not_found("message not found");
    auto rows = co_await c.query(kReaders, r.tenant_id, r.room_id, target.int64(0, 1), r.user_id);
    Response out;
    for (int i = 0; i < rows.size(); ++i) {
        out.items.push_back(Reader{r.room_id, r.message_id, rows.int64(i, 0),
                                   rows.is_null(i, 1) ? "" : rows.time(i, 1)});
    }
    co_return out;
}

core::Task<core::Result<UnreadCount::Response>> UnreadCount::run(pg::Connection& c,
                                                                 const Request& r) {
    auto rows = co_await c.query(kUnreadCount, r.tenant_id, r.room_id, r.user_id);
    if (rows.empty()) co_return core::forbidden("room access denied");
    co_return Response{rows.int64(0, 0)};
}

core::Task<core::Result<UnreadCounts::Response>> UnreadCounts::run(pg::Connection& c,
                                                                   const Request& r) {
    auto rows = co_await c.query(kUnreadCounts, r.tenant_id, r.user_id);
    Response out;
    for (int i = 0; i < rows.size(); ++i) {
        out.items.push_back(RoomUnread{rows.int64(i, 0), rows.int64(i, 1)});
    }
    co_return out;
}

core::Task<core::Result<ListRooms::Response>> ListRooms::run(pg::Connection& c, const Request& r) {
    // Who counts as mentioned: the caller's name, email local part and aliases, lowercased.
    std::vector<std::string> me;
    auto caller = co_await c.query(kCaller, r.tenant_id, r.user_id);
    if (!caller.empty()) {
        me.push_back(core::ascii_lower(caller.string(0, 0)));
        auto email = caller.string(0, 1);
        me.push_back(core::ascii_lower(email.substr(0, email.find('@'))));
    }
    auto aliases = co_await c.query(kCallerAliases, r.tenant_id, r.user_id);
    for (int i = 0; i < aliases.size(); ++i) me.push_back(core::ascii_lower(aliases.string(i, 0)));

    std::optional<std::int64_t> cursor_micros;
    if (r.cursor_unix_nanos) cursor_micros = *r.cursor_unix_nanos / 1000;
    auto rows = co_await c.query(kListRooms, r.tenant_id, r.user_id, cursor_micros,
                                 r.cursor_room_id, r.limit);
    Response out;
    for (int i = 0; i < rows.size(); ++i) {
        RoomSummary s;
        s.room_id = rows.int64(i, 0);
        s.name = rows.string(i, 1);
        s.room_type = rows.string(i, 2);
        s.created_by = rows.int64(i, 3);
        s.created_at = rows.time(i, 4);
        s.activity_unix_nanos = rows.unix_nanos(i, 5);
        if (!rows.is_null(i, 6)) {
            s.peer_user_id = rows.int64(i, 6);
            s.peer_name = rows.string(i, 7);
            s.peer_status = rows.string(i, 8);
            s.peer_status_note = rows.string(i, 9);
        }
        s.unread_count = rows.int64(i, 10);
        if (!rows.is_null(i, 12)) {
            s.latest = message_from(rows, i, 11);
            s.mention_tokens = mention_tokens(s.latest->body);
            for (const auto& token : s.mention_tokens) {
                auto t = core::ascii_lower(token);
                s.is_mentioned = s.is_mentioned || std::find(me.begin(), me.end(), t) != me.end();
            }
        }
        out.items.push_back(std::move(s));
    }
    co_return out;
}

}  // namespace msg::chat
