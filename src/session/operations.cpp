#include "session/operations.hpp"

#include "data/executor.hpp"
#include "storage/pg/connection.hpp"

namespace msg::session {

namespace {

constexpr std::string_view kLogin =
    "INSERT INTO device_sessions"
    "   (tenant_id, user_id, device_id, device_name, token_hash, allowed_tenants, token_version)"
    " VALUES ($1, $2, $3, $4, decode($5, 'hex'), $6::text[],"
    "   coalesce((SELECT token_version FROM users WHERE tenant_id = $1 AND id = $2), 0))"
    " ON CONFLICT (tenant_id, user_id, device_id) DO UPDATE SET"
    "   device_name = EXCLUDED.device_name, token_hash = EXCLUDED.token_hash,"
    "   allowed_tenants = EXCLUDED.allowed_tenants, token_version = EXCLUDED.token_version,"
    "   generation = device_sessions.generation + 1, is_active = true,"
    "   last_seen_at = now(), updated_at = now()"
    " RETURNING session_id::text, last_seen_at, created_at, generation";

constexpr std::string_view kLogout =
    "UPDATE device_sessions SET is_active = false, generation = generation + 1,"
    "   updated_at = now()"
    " WHERE tenant_id = $1 AND user_id = $2"
    "   AND (session_id::text = lower($3) OR device_id = $4)"
    " RETURNING session_id::text, generation";

constexpr std::string_view kLogoutAll =
    "UPDATE device_sessions SET is_active = false, generation = generation + 1,"
    "   updated_at = now()"
    " WHERE tenant_id = $1 AND user_id = $2 AND is_active"
    " RETURNING session_id::text, generation";

constexpr std::string_view kValidate =
    "UPDATE device_sessions d SET last_seen_at = now()"
    " FROM tenants t, users u"
    " WHERE d.session_id = $3::uuid AND d.tenant_id = $1 AND d.user_id = $2"
    "   AND d.token_hash = decode($4, 'hex') AND d.is_active"
    "   AND t.tenant_id = d.tenant_id AND t.is_active"
    "   AND u.tenant_id = d.tenant_id AND u.id = d.user_id AND u.is_active"
    "   AND d.token_version = u.token_version"
    " RETURNING d.generation";

constexpr std::string_view kNotifyMembership =
    "SELECT coalesce(bool_or(user_id = $3), false),"
    "       count(*) FILTER (WHERE user_id = ANY($4::bigint[]))"
    " FROM room_members WHERE tenant_id = $1 AND room_id = $2";
constexpr std::string_view kMessageInRoom =
    "SELECT 1 FROM messages WHERE tenant_id = $1 AND room_id = $2 AND id = $3";
constexpr std::string_view kInsertNotifications =
    "INSERT INTO chat_notifications"
    "   (tenant_id, room_id, message_id, sender_user_id, recipient_user_id, title, body)"
    " SELECT $1, $2, $3, $4, r, $6, $7 FROM unnest($5::bigint[]) AS r"
    // Membership again in the writing statement: a removal committed since the check above
    // (of the sender, or of a recipient) writes nothing for them.
    " WHERE EXISTS (SELECT 1 FROM room_members m"
    "               WHERE m.tenant_id = $1 AND m.room_id = $2 AND m.user_id = $4)"
    "   AND EXISTS (SELECT 1 FROM room_members m"
    "               WHERE m.tenant_id = $1 AND m.room_id = $2 AND m.user_id = r)"
    " RETURNING created_at";

// Members named by a token (name, email local part or alias, lowercased as chat's room list
// does: ASCII only, COLLATE "C"), not the sender, offline now; one row per (message, recipient) — a
// redelivered event inserts nothing (the partial unique index), and a user removed meanwhile is not
// a member.
constexpr std::string_view kNotifyMentioned =
    "INSERT INTO chat_notifications (tenant_id, room_id, message_id, sender_user_id,"
    "   recipient_user_id, title, body, kind)"
    " SELECT $1, $2, $3, $4, u.id, 'mention', $6, 'mention'"
    " FROM room_members m JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id"
    " WHERE m.tenant_id = $1 AND m.room_id = $2 AND u.id <> $4 AND u.is_active"
    "   AND u.status = 'offline'"
    "   AND (lower(u.name COLLATE \"C\") = ANY($5::text[])"
    "        OR lower(split_part(u.email, '@', 1) COLLATE \"C\") = ANY($5::text[])"
    "        OR EXISTS (SELECT 1 FROM user_aliases a WHERE a.tenant_id = $1"
    "                   AND a.user_id = u.id AND lower(a.alias COLLATE \"C\") = ANY($5::text[])))"
    "   AND EXISTS (SELECT 1 FROM messages WHERE tenant_id = $1 AND room_id = $2 AND id = $3)"
    " ON CONFLICT (tenant_id, message_id, recipient_user_id) WHERE kind = 'mention' DO NOTHING"
    " RETURNING recipient_user_id, created_at";

}  // namespace

core::Task<core::Result<NotifyMentioned::Response>> NotifyMentioned::run(pg::Connection& c,
                                                                         const Request& r) {
    auto rows = co_await c.query(kNotifyMentioned, r.tenant_id, r.room_id, r.message_id,
                                 r.sender_id, r.tokens, r.body);
    Response out;
    for (int i = 0; i < rows.size(); ++i) {
        out.notified.push_back(Notified{rows.int64(i, 0), rows.time(i, 1)});
    }
    co_return out;
}

core::Task<core::Result<DeviceSession>> DeviceLogin::run(pg::Connection& c, const Request& r) {
    std::optional<pg::SqlError> failure;
    pg::Rows rows;
    try {
        rows = co_await c.query(kLogin, r.tenant_id, r.user_id, r.device_id, r.device_name,
                                r.token_hash, r.allowed_tenants);
    } catch (const pg::SqlError& e) {
        if (!e.foreign_key_violation()) throw;
        failure = e;
    }
    if (failure) co_return core::not_found("user not found");
    DeviceSession s;
    s.session_id = rows.string(0, 0);
    s.tenant_id = r.tenant_id;
    s.user_id = r.user_id;
    s.device_id = r.device_id;
    s.device_name = r.device_name;
    s.allowed_tenants = r.allowed_tenants;
    s.last_seen_at = rows.time(0, 1);
    s.created_at = rows.time(0, 2);
    s.generation = rows.int64(0, 3);
    co_return s;
}

core::Task<core::Result<DeviceLogout::Response>> DeviceLogout::run(pg::Connection& c,
                                                                   const Request& r) {
    auto rows = co_await c.query(kLogout, r.tenant_id, r.user_id, r.session_id, r.device_id);
    if (rows.empty()) co_return core::not_found("session not found");
    co_return Response{rows.string(0, 0), rows.int64(0, 1)};
}

core::Task<core::Result<DeviceLogoutAll::Response>> DeviceLogoutAll::run(pg::Connection& c,
                                                                         const Request& r) {
    auto rows = co_await c.query(kLogoutAll, r.tenant_id, r.user_id);
    Response out;
    for (int i = 0; i < rows.size(); ++i) {
        out.ended.push_back({rows.string(i, 0), rows.int64(i, 1)});
    }
    co_return out;
}

core::Task<core::Result<ValidateDevice::Response>> ValidateDevice::run(pg::Connection& c,
                                                                       const Request& r) {
    auto rows = co_await c.query(kValidate, r.tenant_id, r.user_id, r.session_id, r.token_hash);
    if (rows.empty()) co_return Response{};
    co_return Response{true, rows.int64(0, 0)};
}

core::Task<core::Result<CreateChatNotifications::Response>> CreateChatNotifications::run(
    pg::Connection& c, const Request& r) {
    auto members =
        co_await c.query(kNotifyMembership, r.tenant_id, r.room_id, r.sender_id, r.recipient_ids);
    if (!members.boolean(0, 0)) co_return core::forbidden("room access denied");
    if (members.int64(0, 1) != static_cast<std::int64_t>(r.recipient_ids.size())) {
        co_return core::invalid("recipient_ids must be members of the room");
    }
    if (r.message_id) {
        auto found = co_await c.query(kMessageInRoom, r.tenant_id, r.room_id, *r.message_id);
        if (found.empty()) co_return core::not_found("message not found");
    }
    auto rows = co_await c.query(kInsertNotifications, r.tenant_id, r.room_id, r.message_id,
                                 r.sender_id, r.recipient_ids, r.title, r.body);
    if (rows.empty() && !r.recipient_ids.empty()) co_return core::forbidden("room access denied");
    co_return Response{rows.empty() ? std::string() : rows.time(0, 0)};
}

}  // namespace msg::session
