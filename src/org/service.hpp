#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/http.hpp"
#include "core/rate_limiter.hpp"
#include "core/task.hpp"
#include "org/model.hpp"

namespace msg::core {
class BlockingPool;
class Clock;
}  // namespace msg::core
namespace msg::auth {
class JwtCodec;
class PasswordHasher;
}  // namespace msg::auth
namespace msg::data {
class Executor;
}

namespace msg::org {

struct LoginLimits {
    int per_email_per_minute = 10;  // per (tenant, email)
    int per_ip_per_minute = 100;
};

/// Rules of login, org units, users, aliases and their audit. Every call is scoped to the
/// caller's tenant.
class OrgService {
  public:
    OrgService(data::Executor& db, const auth::JwtCodec& jwt, const auth::PasswordHasher& hasher,
               core::BlockingPool& blocking, const core::Clock& clock, LoginLimits limits);

    struct LoginInput {
        std::string tenant_id, email, password, ip;
    };
    struct Token {
        std::string access_token;
        std::int64_t user_id = 0;
        std::string tenant_id, role;
    };
    /// 401 `invalid credentials` for an unknown tenant/user or a wrong password (same cost),
    /// 429 when throttled; an outage throws (→ 503).
    core::Task<core::Result<Token>> login(LoginInput in);

    core::Task<core::Result<std::int64_t>> create_org_unit(const core::Principal& caller,
                                                           std::optional<std::int64_t> parent_id,
                                                           std::string name);
    core::Task<core::Result<std::vector<OrgUnit>>> list_org_units(const core::Principal& caller);

    struct NewUser {
        std::int64_t org_id = 0;
        std::string email, password, name, title, role, status, status_note;
    };
    core::Task<core::Result<std::int64_t>> create_user(const core::Principal& caller, NewUser in);
    /// Sets a user's presence (one store for this route and PATCH /session/status) and tells
    /// the status observer.
    core::Task<core::Result<StatusChange>> update_status(const core::Principal& caller,
                                                         std::int64_t user_id, std::string status,
                                                         std::string note);
    /// Called after every committed status change (the session module broadcasts
    /// `status.changed`). Set once at start-up, before serving.
    using StatusObserver = std::function<void(const std::string& tenant_id, const StatusChange&)>;
    void on_status_changed(StatusObserver observer) { status_observer_ = std::move(observer); }

    // ---- credentials (issue 12): each change bumps the user's token version, so every token
    // signed before stops working, and tells the credentials observer (which closes the user's
    // sockets on every node).
    /// Logout everywhere: the caller's own tokens.
    core::Task<core::Result<void>> revoke_tokens(const core::Principal& caller);
    /// Admins and managers; a manager cannot touch an admin; nobody deactivates themself.
    core::Task<core::Result<User>> set_active(const core::Principal& caller, std::int64_t user_id,
                                              bool active);
    /// Admins only (a manager can raise nobody); not one's own role.
    core::Task<core::Result<User>> set_role(const core::Principal& caller, std::int64_t user_id,
                                            std::string role);
    /// Admins and managers (not an admin's password as a manager).
    core::Task<core::Result<void>> reset_password(const core::Principal& caller,
                                                  std::int64_t user_id, std::string password);
    using CredentialsObserver =
        std::function<void(const std::string& tenant_id, std::int64_t user_id)>;
    void on_credentials_changed(CredentialsObserver observer) {
        credentials_observer_ = std::move(observer);
    }

    core::Task<core::Result<std::vector<User>>> search_users(const core::Principal& caller,
                                                             std::string query, int limit);
    core::Task<core::Result<User>> me(const core::Principal& caller);

    core::Task<core::Result<std::vector<std::string>>> aliases(const core::Principal& caller);
    struct AliasInput {
        std::string alias, ip, user_agent;
    };
    core::Task<core::Result<void>> add_alias(const core::Principal& caller, AliasInput in);
    core::Task<core::Result<void>> delete_alias(const core::Principal& caller, AliasInput in);

    struct AuditQuery {
        int limit = 50;
        std::optional<std::string> from, to, action, cursor;
    };
    struct AuditPage {
        std::vector<AliasAudit> items;
        std::optional<std::string> next_cursor;
    };
    core::Task<core::Result<AuditPage>> alias_audit(const core::Principal& caller, AuditQuery q);

    struct SeedAdminInput {
        std::string tenant_id, email, name, title;
        std::optional<std::string> password;  // nullopt: generate one for a new admin
    };
    struct SeedAdminOutput {
        std::int64_t user_id = 0;
        bool created = false;
        std::optional<std::string> generated_password;  // to print once
    };
    core::Task<SeedAdminOutput> seed_admin(SeedAdminInput in);

    // ---- automatic presence (session::Presence) and maintenance commands
    /// A user's first socket (online) or last (offline) on a node: the status follows unless
    /// the user chose one by hand. The change, when there was one (nullopt otherwise).
    core::Task<core::Result<std::optional<StatusChange>>> set_auto_presence(
        const std::string& tenant_id, std::int64_t user_id, bool online);
    /// Single-node start: automatic `online` left by a crash is stale (no socket exists yet).
    /// Returns how many users were reset.
    core::Task<std::int64_t> reset_auto_presence();
    /// `reindex`: users' search tokens where they are missing (migration 005, bulk-inserted
    /// users), in batches of 500. Returns how many were indexed.
    core::Task<std::int64_t> reindex_users();

  private:
    core::Task<std::string> hash_password(std::string password);

    data::Executor& db_;
    const auth::JwtCodec& jwt_;
    const auth::PasswordHasher& hasher_;
    core::BlockingPool& blocking_;
    core::RateLimiter login_by_email_;
    core::RateLimiter login_by_ip_;
    StatusObserver status_observer_;
    CredentialsObserver credentials_observer_;
};

}  // namespace msg::org
