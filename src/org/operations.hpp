#pragma once

// Data operations of the org module (ARCHITECTURE §5): one request struct, one response struct
// and one function each. SQL lives next to them in operations.cpp; every statement filters by
// tenant_id.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/describe.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
#include "org/model.hpp"

namespace msg::pg {
class Connection;  // storage/pg/connection.hpp (libpq) stays out of this header
}

namespace msg::data {
class Registry;  // data/remote.hpp
}

namespace msg::org {

struct Empty {};
MSG_DESCRIBE_STRUCT(Empty, (), ())

struct IdResponse {
    std::int64_t id = 0;
};
MSG_DESCRIBE_STRUCT(IdResponse, (), (id))

struct CreateOrgUnit {
    static constexpr std::string_view kName = "org-units/create";
    static constexpr bool kReadOnly = false;
    struct Request {
        std::string tenant_id;
        std::optional<std::int64_t> parent_id;
        std::string name;
    };
    using Response = IdResponse;
    /// 400 `parent_id is invalid` when the parent is not an org unit of the tenant.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(CreateOrgUnit::Request, (), (tenant_id, parent_id, name))

struct ListOrgUnits {
    static constexpr std::string_view kName = "org-units/list";
    static constexpr bool kReadOnly = true;
    static constexpr int kMaxItems = 10'000;
    struct Request {
        std::string tenant_id;
    };
    struct Response {
        std::vector<OrgUnit> items;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(ListOrgUnits::Request, (), (tenant_id))
MSG_DESCRIBE_STRUCT(ListOrgUnits::Response, (), (items))

struct CreateUser {
    static constexpr std::string_view kName = "users/create";
    static constexpr bool kReadOnly = false;
    struct Request {
        std::string tenant_id;
        std::int64_t org_id = 0;
        std::string email;
        std::string name;
        std::string title;
        std::string role;
        std::string status;
        std::string status_note;
        std::string password_hash;
    };
    using Response = IdResponse;
    /// 409 `email already exists`; 400 `org_id is invalid`.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(CreateUser::Request, (),
                    (tenant_id, org_id, email, name, title, role, status, status_note,
                     password_hash))

/// The credentials of a login attempt's user, if the tenant is active and the user exists.
struct FindLoginUser {
    static constexpr std::string_view kName = "users/find-login";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // a user just created logs in at once
    struct Request {
        std::string tenant_id;
        std::string email;
    };
    struct Response {
        bool found = false;  // false also for a deactivated user
        std::int64_t user_id = 0;
        std::string role;
        std::string password_hash;
        std::int64_t token_version = 0;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(FindLoginUser::Request, (), (tenant_id, email))
MSG_DESCRIBE_STRUCT(FindLoginUser::Response, (),
                    (found, user_id, role, password_hash, token_version))

/// What a token's claims are checked against (Credentials): the tenant's active flag, the
/// user's active flag and token version. An unknown tenant or user reads as inactive.
struct LoadCredentials {
    static constexpr std::string_view kName = "users/credentials";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // a revocation is seen at once
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
    };
    struct Response {
        bool tenant_active = false;
        bool user_active = false;
        std::int64_t token_version = 0;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(LoadCredentials::Request, (), (tenant_id, user_id))
MSG_DESCRIBE_STRUCT(LoadCredentials::Response, (), (tenant_active, user_active, token_version))

/// One change of a user's credentials, each bumping the token version (every token signed
/// before stops working): any of a new active flag, role or password hash, or none (logout
/// everywhere). `protect_admins`: the change is refused (403) when the target is an admin — a
/// manager's call. 404 `user not found` outside the tenant.
struct ChangeCredentials {
    static constexpr std::string_view kName = "users/change-credentials";
    static constexpr bool kReadOnly = false;
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
        std::optional<bool> active;
        std::optional<std::string> role;
        std::optional<std::string> password_hash;
        bool protect_admins = false;
    };
    using Response = User;
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(ChangeCredentials::Request, (),
                    (tenant_id, user_id, active, role, password_hash, protect_admins))

struct GetUser {
    static constexpr std::string_view kName = "users/get";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // a change reads back on any node
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
    };
    using Response = User;
    /// 404 `user not found`.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(GetUser::Request, (), (tenant_id, user_id))

struct UpdateUserStatus {
    static constexpr std::string_view kName = "users/status";
    static constexpr bool kReadOnly = false;
    static constexpr bool kIdempotent = true;  // sets the status
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
        std::string status;
        std::string note;
    };
    /// Any status but `online` is manual: automatic presence leaves it alone until the user
    /// sets `online` again.
    using Response = StatusChange;
    /// 404 `user not found`.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(UpdateUserStatus::Request, (), (tenant_id, user_id, status, note))

/// Automatic presence: `online` with the user's first socket, `offline` after the last, unless
/// the user chose a status by hand. `changed` is false when nothing changed (already there,
/// manual, or no such user).
struct SetAutoPresence {
    static constexpr std::string_view kName = "users/auto-presence";
    static constexpr bool kReadOnly = false;
    static constexpr bool kIdempotent = true;  // sets the flag (a repeat reports no change)
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
        bool online = false;
    };
    struct Response {
        bool changed = false;
        StatusChange change;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(SetAutoPresence::Request, (), (tenant_id, user_id, online))
MSG_DESCRIBE_STRUCT(SetAutoPresence::Response, (), (changed, change))

/// Single-node start-up: nobody has a socket yet, so every automatic `online` (left by a crash)
/// becomes `offline`. All tenants: only the `all` role runs it, before it serves.
struct ResetAutoPresence {
    static constexpr std::string_view kName = "users/reset-auto-presence";
    static constexpr bool kReadOnly = false;
    static constexpr bool kIdempotent = true;  // resets whatever is still set
    struct Request {};
    struct Response {
        std::int64_t reset = 0;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(ResetAutoPresence::Request, (), ())
MSG_DESCRIBE_STRUCT(ResetAutoPresence::Response, (), (reset))

/// Candidates of a users search: users whose search tokens match `tsquery`
/// (search::to_tsquery), newest change first, after the keyset (`after_updated_at`,
/// `after_id`). `aliases[i]` (newline-joined) belongs to `items[i]`; the caller verifies each
/// candidate with search::contains_all over user_search_text().
struct SearchUsers {
    static constexpr std::string_view kName = "users/search";
    static constexpr bool kReadOnly = true;
    struct Request {
        std::string tenant_id;
        std::string tsquery;
        std::optional<std::string> after_updated_at;  // RFC 3339
        std::optional<std::int64_t> after_id;
        int limit = 20;
    };
    struct Response {
        std::vector<User> items;
        std::vector<std::string> aliases;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(SearchUsers::Request, (),
                    (tenant_id, tsquery, after_updated_at, after_id, limit))
MSG_DESCRIBE_STRUCT(SearchUsers::Response, (), (items, aliases))

/// Backfill: writes the search tokens of up to `limit` users that have none (created before
/// migration 005 or bulk-inserted). All tenants: an operator command (`reindex`).
struct IndexUsers {
    static constexpr std::string_view kName = "users/index";
    static constexpr bool kReadOnly = false;
    static constexpr bool kIdempotent = true;  // indexes what is stale
    struct Request {
        int limit = 500;
    };
    struct Response {
        std::int64_t indexed = 0;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(IndexUsers::Request, (), (limit))
MSG_DESCRIBE_STRUCT(IndexUsers::Response, (), (indexed))

struct ListAliases {
    static constexpr std::string_view kName = "users/aliases/list";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // as GetUser
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
    };
    struct Response {
        std::vector<std::string> aliases;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(ListAliases::Request, (), (tenant_id, user_id))
MSG_DESCRIBE_STRUCT(ListAliases::Response, (), (aliases))

/// Who changed an alias, for the audit row.
struct AliasChange {
    std::string tenant_id;
    std::int64_t user_id = 0;
    std::string alias;  // normalised
    std::string ip;
    std::string user_agent;
};
MSG_DESCRIBE_STRUCT(AliasChange, (), (tenant_id, user_id, alias, ip, user_agent))

struct AddAlias {
    static constexpr std::string_view kName = "users/aliases/add";
    static constexpr bool kReadOnly = false;
    static constexpr bool kIdempotent = true;  // a repeat finds the alias: a no-op
    using Request = AliasChange;
    using Response = Empty;
    /// A duplicate is a silent success without an audit row (seed); 400 `too many aliases`.
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};

struct DeleteAlias {
    static constexpr std::string_view kName = "users/aliases/delete";
    static constexpr bool kReadOnly = false;
    using Request = AliasChange;
    using Response = Empty;
    /// Deleting an absent alias is a silent success without an audit row (seed).
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};

struct ListAliasAudit {
    static constexpr std::string_view kName = "users/aliases/audit";
    static constexpr bool kReadOnly = true;
    struct Request {
        std::string tenant_id;
        std::int64_t user_id = 0;
        int limit = 50;  // rows to return (the service asks for one more to detect a next page)
        std::optional<std::int64_t> from_unix_nanos;
        std::optional<std::int64_t> to_unix_nanos;
        std::string action;  // "" | add | delete
        std::optional<std::int64_t> cursor_unix_nanos;
        std::optional<std::int64_t> cursor_id;
    };
    struct Response {
        std::vector<AliasAudit> items;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(ListAliasAudit::Request, (),
                    (tenant_id, user_id, limit, from_unix_nanos, to_unix_nanos, action,
                     cursor_unix_nanos, cursor_id))
MSG_DESCRIBE_STRUCT(ListAliasAudit::Response, (), (items))

/// Creates the tenant row if missing, a root org unit if the tenant has none, and creates or
/// updates the admin user (an existing user's password changes only with replace_password).
/// For the `seed-admin` role.
struct SeedAdmin {
    static constexpr std::string_view kName = "admin/seed";
    static constexpr bool kReadOnly = false;
    struct Request {
        std::string tenant_id;
        std::string email;
        std::string name;
        std::string title;
        std::string password_hash;
        bool replace_password = false;
    };
    struct Response {
        std::int64_t user_id = 0;
        bool created = false;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(SeedAdmin::Request, (),
                    (tenant_id, email, name, title, password_hash, replace_password))
MSG_DESCRIBE_STRUCT(SeedAdmin::Response, (), (user_id, created))

/// Adds every operation above to the dbman registry (wire.cpp).
void register_operations(data::Registry& r);

}  // namespace msg::org
