#pragma once

// Data operations of the session module (ARCHITECTURE §5): device sessions and chat
// notifications. Every statement filters by tenant_id. Presence is the org module's
// (users.status: UpdateUserStatus, SetAutoPresence).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/describe.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
#include "session/model.hpp"

namespace msg::pg {
class Connection;  // storage/pg/connection.hpp (libpq) stays out of this header
}

namespace msg::data {
class Registry;  // data/remote.hpp
}

namespace msg::session {

/// Upserts the device's session with a new token (hash): the session_id stays, the generation
/// moves on, the session is active again.
struct DeviceLogin {
    static constexpr std::string_view kName = "session/device/login";
    static constexpr bool kReadOnly = false;
    static constexpr bool kIdempotent = true;  // an upsert of the device with the same token hash
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
        std::string device_id;
        std::string device_name;
        std::string token_hash;  // sha256, hex
        std::vector<std::string> allowed_tenants;
    };
    using Response = DeviceSession;
    /// 404 `user not found` when the caller's user no longer exists.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(DeviceLogin::Request, (),
                    (tenant_id, user_id, device_id, device_name, token_hash, allowed_tenants))

/// Deactivates one of the caller's device sessions, picked by session_id or device_id.
struct DeviceLogout {
    static constexpr std::string_view kName = "session/device/logout";
    static constexpr bool kReadOnly = false;
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
        std::optional<std::string> session_id;  // canonical UUID text
        std::optional<std::string> device_id;
    };
    struct Response {
        std::string session_id;
        std::int64_t generation = 0;  // sockets opened before this one are closed
    };
    /// 404 `session not found` (also for another user's session).
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(DeviceLogout::Request, (), (tenant_id, user_id, session_id, device_id))
MSG_DESCRIBE_STRUCT(DeviceLogout::Response, (), (session_id, generation))

/// Logout everywhere: deactivates every active device session of the caller.
struct DeviceLogoutAll {
    static constexpr std::string_view kName = "session/device/logout-all";
    static constexpr bool kReadOnly = false;
    static constexpr bool kIdempotent = true;  // ends what is still active
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
    };
    struct Response {
        std::vector<DeviceLogout::Response> ended;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(DeviceLogoutAll::Request, (), (tenant_id, user_id))
MSG_DESCRIBE_STRUCT(DeviceLogoutAll::Response, (), (ended))

/// The session socket's check: all four values match an active session of an active tenant
/// and an active user.
/// A match touches last_seen_at.
struct ValidateDevice {
    static constexpr std::string_view kName = "session/device/validate";
    static constexpr bool kReadOnly = false;
    static constexpr bool kIdempotent = true;   // a lookup (and last_seen_at)
    static constexpr bool kWhileMoving = true;  // a last_seen_at lost to a tenant move is harmless
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
        std::string session_id;  // canonical UUID text (checked before)
        std::string token_hash;  // sha256, hex
    };
    struct Response {
        bool valid = false;
        std::int64_t generation = 0;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(ValidateDevice::Request, (), (tenant_id, user_id, session_id, token_hash))
MSG_DESCRIBE_STRUCT(ValidateDevice::Response, (), (valid, generation))

/// POST /chat/notify: one row per distinct recipient. The sender and every recipient must be
/// members of the room; a given message must be in the room.
struct CreateChatNotifications {
    static constexpr std::string_view kName = "session/chat/notify";
    static constexpr bool kReadOnly = false;
    struct Request {
        std::string tenant_id;
        std::int64_t sender_id = 0;
        std::int64_t room_id = 0;
        std::optional<std::int64_t> message_id;
        std::string title;
        std::string body;
        std::vector<std::int64_t> recipient_ids;  // distinct
    };
    struct Response {
        std::string created_at;
    };
    /// 403 `room access denied` (sender not a member, or no such room), 400
    /// `recipient_ids must be members of the room`, 404 `message not found`.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(CreateChatNotifications::Request, (),
                    (tenant_id, sender_id, room_id, message_id, title, body, recipient_ids))
MSG_DESCRIBE_STRUCT(CreateChatNotifications::Response, (), (created_at))

/// The notifications consumer's write for one new message: a stored `mention` notification for
/// each member the `tokens` name who is offline (users.status, kept across nodes by presence),
/// once per (message, recipient). `notified`: the rows written now.
struct NotifyMentioned {
    static constexpr std::string_view kName = "session/notify-mentioned";
    static constexpr bool kReadOnly = false;
    static constexpr bool kIdempotent = true;  // one per (message, recipient)
    struct Request {
        std::string tenant_id;
        std::int64_t room_id = 0;
        std::int64_t message_id = 0;
        std::int64_t sender_id = 0;
        std::vector<std::string> tokens;  // lowercased mention tokens of the body
        std::string body;
    };
    struct Notified {
        std::int64_t recipient_user_id = 0;
        std::string created_at;
    };
    struct Response {
        std::vector<Notified> notified;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(NotifyMentioned::Request, (),
                    (tenant_id, room_id, message_id, sender_id, tokens, body))
MSG_DESCRIBE_STRUCT(NotifyMentioned::Notified, (), (recipient_user_id, created_at))
MSG_DESCRIBE_STRUCT(NotifyMentioned::Response, (), (notified))

/// Adds every operation above to the dbman registry (wire.cpp).
void register_operations(data::Registry& r);

}  // namespace msg::session
