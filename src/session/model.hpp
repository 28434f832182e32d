#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/describe.hpp"
#include "core/error.hpp"
#include "org/model.hpp"

namespace msg::session {

/// A device's session (seed DeviceSession). The token itself is shown once, in the login
/// response; the database keeps only its hash.
struct DeviceSession {
    std::string session_id;  // a UUID, stable per (tenant, user, device)
    std::string tenant_id;
    std::int64_t user_id = 0;
    std::string device_id;
    std::string device_name;
    std::vector<std::string> allowed_tenants;
    std::string last_seen_at;
    std::string created_at;
    std::int64_t generation = 0;  // bumped by every login and logout; not public
};
MSG_DESCRIBE_STRUCT(DeviceSession, (),
                    (session_id, tenant_id, user_id, device_id, device_name, allowed_tenants,
                     last_seen_at, created_at, generation))

/// The login response: seed fields, with the new session token and the caller's own bearer
/// token (`auth_token`, seed).
boost::json::object to_json(const DeviceSession& s, std::string_view session_token,
                            std::string_view auth_token);

/// `status.changed` as the seed sends it to every session socket of the tenant.
boost::json::object status_changed_event(const std::string& tenant_id,
                                         const org::StatusChange& change);

// Bounds (bytes).
inline constexpr std::size_t kMaxDeviceIdBytes = 128;
inline constexpr std::size_t kMaxDeviceNameBytes = 200;
inline constexpr std::size_t kMaxAllowedTenants = 32;
inline constexpr std::size_t kMaxTenantIdBytes = 64;
inline constexpr std::size_t kSessionTokenBytes = 32;  // 64 hex characters
inline constexpr std::size_t kMaxNotifyRecipients = 1000;
inline constexpr std::size_t kMaxNotifyTitleBytes = 200;
inline constexpr std::size_t kMaxNotifyBodyBytes = 4000;

/// A UUID in its canonical text form (8-4-4-4-12 hex digits, either case).
bool valid_session_id(std::string_view s);
/// 64 lowercase hex characters, as login hands out.
bool valid_session_token(std::string_view s);

/// The seed's status rules for PATCH /session/status: trimmed and lowercased; blank →
/// `status is required`; else one of online|offline|busy|away|meeting or
/// `status must be one of online|offline|busy|away|meeting`.
core::Result<std::string> normalize_status(std::string_view raw);

/// The seed's allowed_tenants rules: trimmed, blanks dropped, de-duplicated in order, the
/// caller's own tenant appended when missing (so an empty list becomes [own]).
std::vector<std::string> clean_allowed_tenants(const std::vector<std::string>& in,
                                               const std::string& own_tenant);

}  // namespace msg::session
