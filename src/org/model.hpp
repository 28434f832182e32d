#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/describe.hpp"
#include "core/error.hpp"

namespace msg::org {

struct User {
    std::string tenant_id;
    std::int64_t id = 0;
    std::int64_t org_id = 0;
    std::string email;
    std::string name;
    std::string title;
    std::string role;
    std::string status;
    std::string status_note;
    std::string created_at;
    std::string updated_at;
};
MSG_DESCRIBE_STRUCT(User, (),
                    (tenant_id, id, org_id, email, name, title, role, status, status_note,
                     created_at, updated_at))

/// A user's presence after a change (status.changed carries it).
struct StatusChange {
    std::int64_t user_id = 0;
    std::string status;
    std::string status_note;
    std::string updated_at;
};
MSG_DESCRIBE_STRUCT(StatusChange, (), (user_id, status, status_note, updated_at))

struct OrgUnit {
    std::string tenant_id;
    std::int64_t id = 0;
    std::optional<std::int64_t> parent_id;
    std::string name;
    std::string created_at;
};
MSG_DESCRIBE_STRUCT(OrgUnit, (), (tenant_id, id, parent_id, name, created_at))

struct AliasAudit {
    std::string tenant_id;
    std::int64_t id = 0;
    std::int64_t user_id = 0;
    std::string alias;
    std::string action;
    std::int64_t acted_by = 0;
    std::string ip;
    std::string user_agent;
    std::string created_at;
    std::int64_t created_unix_nanos = 0;  // keyset cursor; not part of the public JSON
};
MSG_DESCRIBE_STRUCT(AliasAudit, (),
                    (tenant_id, id, user_id, alias, action, acted_by, ip, user_agent, created_at,
                     created_unix_nanos))

/// Public JSON (seed field names and order).
boost::json::value to_json(const User& u);
boost::json::value to_json(const OrgUnit& o);
boost::json::value to_json(const AliasAudit& a);

// Field limits (bytes unless stated).
inline constexpr std::size_t kMaxNameBytes = 200;
inline constexpr std::size_t kMaxTitleBytes = 200;
inline constexpr std::size_t kMaxEmailBytes = 254;
inline constexpr std::size_t kMinPasswordBytes = 8;
inline constexpr std::size_t kMaxPasswordBytes = 128;
inline constexpr std::size_t kMaxStatusNoteBytes = 500;
inline constexpr std::size_t kMaxAliasChars = 40;
inline constexpr std::size_t kMaxAliasesPerUser = 50;
inline constexpr std::size_t kMaxSearchQueryChars = 100;

/// What users search matches: name, email, title and the newline-joined aliases, one per line
/// (a term cannot match across two fields).
std::string user_search_text(std::string_view name, std::string_view email, std::string_view title,
                             std::string_view aliases);

bool valid_role(std::string_view role);      // admin | manager | user
bool valid_status(std::string_view status);  // online | offline | busy | away | meeting
/// A pragmatic address check: one '@', non-empty local part ≤ 64 bytes, a dotted domain, no
/// spaces or control characters.
bool valid_email(std::string_view email);

/// Alias rules for add (seed §8.6, but 40 *characters*): trimmed, then
/// `alias is required` / `alias is too long` / `alias may only contain letters, digits,
/// underscore, and Korean characters`; stored lowercased.
core::Result<std::string> normalize_alias_for_add(std::string_view raw);
/// Alias rules for delete: `alias is required` / `alias format is invalid`.
core::Result<std::string> normalize_alias_for_delete(std::string_view raw);

}  // namespace msg::org
