#include "org/operations.hpp"

#include "data/executor.hpp"
#include "search/tokenizer.hpp"
#include "storage/pg/connection.hpp"

namespace msg::org {

namespace {

User user_from(const pg::Rows& rows, int i) {
    return User{rows.string(i, 0), rows.int64(i, 1),  rows.int64(i, 2),  rows.string(i, 3),
                rows.string(i, 4), rows.string(i, 5), rows.string(i, 6), rows.string(i, 7),
                rows.string(i, 8), rows.time(i, 9),   rows.time(i, 10)};
}

constexpr std::string_view kInsertOrgUnit =
    "INSERT INTO org_units (tenant_id, parent_id, name) VALUES ($1, $2, $3) RETURNING id";

constexpr std::string_view kListOrgUnits =
    "SELECT tenant_id, id, parent_id, name, created_at FROM org_units"
    " WHERE tenant_id = $1 ORDER BY id LIMIT $2";

constexpr std::string_view kInsertUser =
    "INSERT INTO users (tenant_id, org_id, email, name, title, role, status, status_note,"
    " password_hash, status_manual)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $7 NOT IN ('online', 'offline'))"
    " RETURNING id";

constexpr std::string_view kFindLoginUser =
    "SELECT u.id, u.role, u.password_hash, u.token_version FROM users u"
    " JOIN tenants t ON t.tenant_id = u.tenant_id AND t.is_active"
    " WHERE u.tenant_id = $1 AND lower(u.email) = lower($2) AND u.is_active";

constexpr std::string_view kLoadCredentials =
    "SELECT t.is_active, coalesce(u.is_active, false), coalesce(u.token_version, 0)"
    " FROM tenants t LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.id = $2"
    " WHERE t.tenant_id = $1";

// The role check and the change are one statement: a target that became an admin in between
// is still protected.
constexpr std::string_view kChangeCredentials =
    "UPDATE users SET is_active = coalesce($3, is_active), role = coalesce($4, role),"
    "   password_hash = coalesce($5, password_hash), token_version = token_version + 1,"
    "   updated_at = now()"
    " WHERE tenant_id = $1 AND id = $2 AND NOT ($6 AND role = 'admin')"
    " RETURNING tenant_id, id, org_id, email, name, title, role, status, status_note,"
    "   created_at, updated_at";
constexpr std::string_view kUserExists = "SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2";

constexpr std::string_view kGetUser =
    "SELECT tenant_id, id, org_id, email, name, title, role, status, status_note, created_at,"
    " updated_at FROM users WHERE tenant_id = $1 AND id = $2";

constexpr std::string_view kUpdateStatus =
    "UPDATE users SET status = $3, status_note = $4, status_manual = ($3 <> 'online'),"
    "   status_updated_at = now(), updated_at = now()"
    " WHERE tenant_id = $1 AND id = $2"
    " RETURNING id, status, status_note, status_updated_at";
constexpr std::string_view kResetAutoPresence =
    "UPDATE users SET status = 'offline', status_updated_at = now()"
    " WHERE status = 'online' AND NOT status_manual";
constexpr std::string_view kAutoPresence =
    "UPDATE users SET status = CASE WHEN $3 THEN 'online' ELSE 'offline' END,"
    "   status_updated_at = now()"
    " WHERE tenant_id = $1 AND id = $2 AND NOT status_manual"
    "   AND status <> CASE WHEN $3 THEN 'online' ELSE 'offline' END"
    " RETURNING id, status, status_note, status_updated_at";

// Index candidates (search::to_tsquery over users.search_tokens), newest change first, keyset
// paged; the caller verifies each against its name, email, title and aliases (column 11).
constexpr std::string_view kSearchUsers =
    "SELECT tenant_id, id, org_id, email, name, title, role, status, status_note, created_at,"
    " updated_at, coalesce((SELECT string_agg(a.alias, E'\\n') FROM user_aliases a"
    "   WHERE a.tenant_id = u.tenant_id AND a.user_id = u.id), '')"
    " FROM users u WHERE u.tenant_id = $1 AND u.search_tokens @@ $2::tsquery"
    "   AND ($3::timestamptz IS NULL OR (u.updated_at, u.id) < ($3::timestamptz, $4::bigint))"
    " ORDER BY u.updated_at DESC, u.id DESC LIMIT $5";

// What users search matches, locked so that concurrent alias changes write their tokens in
// commit order; then the tokens.
constexpr std::string_view kUserSearchText =
    "SELECT u.name, u.email, u.title, coalesce((SELECT string_agg(a.alias, E'\\n')"
    "   FROM user_aliases a WHERE a.tenant_id = u.tenant_id AND a.user_id = u.id), '')"
    " FROM users u WHERE u.tenant_id = $1 AND u.id = $2 FOR UPDATE";
constexpr std::string_view kWriteUserTokens =
    "UPDATE users SET search_tokens = array_to_tsvector($3::text[])"
    " WHERE tenant_id = $1 AND id = $2";
constexpr std::string_view kUnindexedUsers =
    "SELECT tenant_id, id FROM users WHERE search_tokens IS NULL ORDER BY tenant_id, id LIMIT $1";

constexpr std::string_view kListAliases =
    "SELECT alias FROM user_aliases WHERE tenant_id = $1 AND user_id = $2 ORDER BY alias";

constexpr std::string_view kAliasState =
    "SELECT count(*), count(*) FILTER (WHERE alias = $3) FROM user_aliases"
    " WHERE tenant_id = $1 AND user_id = $2";

constexpr std::string_view kAddAlias =
    "WITH added AS ("
    "  INSERT INTO user_aliases (tenant_id, user_id, alias) VALUES ($1, $2, $3)"
    "  ON CONFLICT DO NOTHING RETURNING alias)"
    " INSERT INTO alias_audit (tenant_id, user_id, alias, action, acted_by, ip, user_agent)"
    " SELECT $1, $2, alias, 'add', $2, $4, $5 FROM added";

constexpr std::string_view kDeleteAlias =
    "WITH removed AS ("
    "  DELETE FROM user_aliases WHERE tenant_id = $1 AND user_id = $2 AND alias = $3"
    "  RETURNING alias)"
    " INSERT INTO alias_audit (tenant_id, user_id, alias, action, acted_by, ip, user_agent)"
    " SELECT $1, $2, alias, 'delete', $2, $4, $5 FROM removed";

// Optional filters are NULL-tolerant parameters, so one prepared statement serves every mix.
// Times travel as Unix microseconds (exact; PostgreSQL keeps microseconds).
constexpr std::string_view kListAudit =
    "SELECT tenant_id, id, user_id, alias, action, acted_by, ip, user_agent, created_at"
    " FROM alias_audit WHERE tenant_id = $1 AND user_id = $2"
    " AND ($3::bigint IS NULL OR created_at >= 'epoch'::timestamptz + $3::bigint * interval '1 "
    "microsecond')"
    " AND ($4::bigint IS NULL OR created_at <= 'epoch'::timestamptz + $4::bigint * interval '1 "
    "microsecond')"
    " AND ($5 = '' OR action = $5)"
    " AND ($6::bigint IS NULL OR (created_at, id) <"
    "      ('epoch'::timestamptz + $6::bigint * interval '1 microsecond', $7::bigint))"
    " ORDER BY created_at DESC, id DESC LIMIT $8";

constexpr std::string_view kSeedTenant =
    "INSERT INTO tenants (tenant_id, name, deployment_mode) VALUES ($1, $1, 'shared')"
    " ON CONFLICT DO NOTHING";
constexpr std::string_view kRootOrgUnit =
    "SELECT id FROM org_units WHERE tenant_id = $1 AND parent_id IS NULL ORDER BY id LIMIT 1";
constexpr std::string_view kInsertRootOrgUnit =
    "INSERT INTO org_units (tenant_id, name) VALUES ($1, 'Headquarters') RETURNING id";
constexpr std::string_view kFindUserByEmail =
    "SELECT id FROM users WHERE tenant_id = $1 AND lower(email) = lower($2) FOR UPDATE";
constexpr std::string_view kPromoteAdmin =
    "UPDATE users SET role = 'admin', name = $3, title = $4,"
    " password_hash = CASE WHEN $6 THEN $5 ELSE password_hash END, updated_at = now()"
    " WHERE tenant_id = $1 AND id = $2";
constexpr std::string_view kInsertAdmin =
    "INSERT INTO users (tenant_id, org_id, email, name, title, role, password_hash)"
    " VALUES ($1, $2, $3, $4, $5, 'admin', $6) RETURNING id";

std::optional<std::int64_t> micros(const std::optional<std::int64_t>& nanos) {
    if (!nanos) return std::nullopt;
    return *nanos / 1000;
}

/// Rewrites a user's search tokens from what is stored now. Inside the caller's transaction.
core::Task<void> refresh_search_tokens(pg::Connection& c, const std::string& tenant_id,
                                       std::int64_t user_id) {
    auto rows = co_await c.query(kUserSearchText, tenant_id, user_id);
    if (rows.empty()) co_return;
    const std::string text =
        user_search_text(rows.text(0, 0), rows.text(0, 1), rows.text(0, 2), rows.text(0, 3));
    const auto tokens = pg::param(search::index_tokens(text));
    co_await c.query(kWriteUserTokens, tenant_id, user_id, tokens);
}

}  // namespace

core::Task<core::Result<IdResponse>> CreateOrgUnit::run(pg::Connection& c, const Request& r) {
    try {
        auto rows = co_await c.query(kInsertOrgUnit, r.tenant_id, r.parent_id, r.name);
        co_return IdResponse{rows.int64(0, 0)};
    } catch (const pg::SqlError& e) {
        if (!e.foreign_key_violation()) throw;
    }
    co_return core::invalid("parent_id is invalid");
}

core::Task<core::Result<ListOrgUnits::Response>> ListOrgUnits::run(pg::Connection& c,
                                                                   const Request& r) {
    auto rows = co_await c.query(kListOrgUnits, r.tenant_id, kMaxItems);
    Response out;
    out.items.reserve(rows.size());
    for (int i = 0; i < rows.size(); ++i) {
        out.items.push_back(OrgUnit{rows.string(i, 0), rows.int64(i, 1), rows.opt_int64(i, 2),
                                    rows.string(i, 3), rows.time(i, 4)});
    }
    co_return out;
}

core::Task<core::Result<IdResponse>> CreateUser::run(pg::Connection& c, const Request& r) {
    std::string failure;
    try {
        co_await data::begin(c);
        auto rows = co_await c.query(kInsertUser, r.tenant_id, r.org_id, r.email, r.name, r.title,
                                     r.role, r.status, r.status_note, r.password_hash);
        const std::int64_t id = rows.int64(0, 0);
        co_await refresh_search_tokens(c, r.tenant_id, id);
        co_await data::commit(c);
        co_return IdResponse{id};
    } catch (const pg::SqlError& e) {
        if (e.unique_violation()) {
            failure = "email";
        } else if (e.foreign_key_violation()) {
            failure = "org";
        } else {
            throw;
        }
    }
    if (failure == "email") co_return core::conflict("email already exists");
    co_return core::invalid("org_id is invalid");
}

core::Task<core::Result<FindLoginUser::Response>> FindLoginUser::run(pg::Connection& c,
                                                                     const Request& r) {
    auto rows = co_await c.query(kFindLoginUser, r.tenant_id, r.email);
    if (rows.empty()) co_return Response{};
    co_return Response{true, rows.int64(0, 0), rows.string(0, 1), rows.string(0, 2),
                       rows.int64(0, 3)};
}

core::Task<core::Result<LoadCredentials::Response>> LoadCredentials::run(pg::Connection& c,
                                                                         const Request& r) {
    auto rows = co_await c.query(kLoadCredentials, r.tenant_id, r.user_id);
    if (rows.empty()) co_return Response{};
    co_return Response{rows.boolean(0, 0), rows.boolean(0, 1), rows.int64(0, 2)};
}

core::Task<core::Result<User>> ChangeCredentials::run(pg::Connection& c, const Request& r) {
    auto rows = co_await c.query(kChangeCredentials, r.tenant_id, r.user_id, r.active, r.role,
                                 r.password_hash, r.protect_admins);
    if (!rows.empty()) co_return user_from(rows, 0);
    auto exists = co_await c.query(kUserExists, r.tenant_id, r.user_id);
    if (exists.empty()) co_return core::not_found("user not found");
    co_return core::forbidden("insufficient permissions");
}

core::Task<core::Result<User>> GetUser::run(pg::Connection& c, const Request& r) {
    auto rows = co_await c.query(kGetUser, r.tenant_id, r.user_id);
    if (rows.empty()) co_return core::not_found("user not found");
    co_return user_from(rows, 0);
}

namespace {
StatusChange status_change_from(const pg::Rows& rows) {
    return {rows.int64(0, 0), rows.string(0, 1), rows.string(0, 2), rows.time(0, 3)};
}
}  // namespace

core::Task<core::Result<StatusChange>> UpdateUserStatus::run(pg::Connection& c, const Request& r) {
    auto rows = co_await c.query(kUpdateStatus, r.tenant_id, r.user_id, r.status, r.note);
    if (rows.size() == 0) co_return core::not_found("user not found");
    co_return status_change_from(rows);
}

core::Task<core::Result<ResetAutoPresence::Response>> ResetAutoPresence::run(pg::Connection& c,
                                                                             const Request&) {
    auto rows = co_await c.query(kResetAutoPresence);
    co_return Response{rows.affected()};
}

core::Task<core::Result<SetAutoPresence::Response>> SetAutoPresence::run(pg::Connection& c,
                                                                         const Request& r) {
    auto rows = co_await c.query(kAutoPresence, r.tenant_id, r.user_id, r.online);
    Response out;
    if (rows.size() == 0) co_return out;
    out.changed = true;
    out.change = status_change_from(rows);
    co_return out;
}

core::Task<core::Result<SearchUsers::Response>> SearchUsers::run(pg::Connection& c,
                                                                 const Request& r) {
    auto rows = co_await c.query(kSearchUsers, r.tenant_id, r.tsquery, r.after_updated_at,
                                 r.after_id, r.limit);
    Response out;
    for (int i = 0; i < rows.size(); ++i) {
        out.items.push_back(user_from(rows, i));
        out.aliases.push_back(rows.string(i, 11));
    }
    co_return out;
}

core::Task<core::Result<IndexUsers::Response>> IndexUsers::run(pg::Connection& c,
                                                               const Request& r) {
    auto rows = co_await c.query(kUnindexedUsers, r.limit);
    Response out;
    for (int i = 0; i < rows.size(); ++i) {
        const std::string tenant_id = rows.string(i, 0);
        co_await refresh_search_tokens(c, tenant_id, rows.int64(i, 1));
        ++out.indexed;
    }
    co_return out;
}

core::Task<core::Result<ListAliases::Response>> ListAliases::run(pg::Connection& c,
                                                                 const Request& r) {
    auto rows = co_await c.query(kListAliases, r.tenant_id, r.user_id);
    Response out;
    for (int i = 0; i < rows.size(); ++i) out.aliases.push_back(rows.string(i, 0));
    co_return out;
}

core::Task<core::Result<Empty>> AddAlias::run(pg::Connection& c, const Request& r) {
    auto state = co_await c.query(kAliasState, r.tenant_id, r.user_id, r.alias);
    if (state.int64(0, 1) > 0) co_return Empty{};  // already there: no-op, no audit row
    if (state.int64(0, 0) >= static_cast<std::int64_t>(kMaxAliasesPerUser)) {
        co_return core::invalid("too many aliases");
    }
    co_await data::begin(c);
    co_await c.query(kAddAlias, r.tenant_id, r.user_id, r.alias, r.ip, r.user_agent);
    co_await refresh_search_tokens(c, r.tenant_id, r.user_id);
    co_await data::commit(c);
    co_return Empty{};
}

core::Task<core::Result<Empty>> DeleteAlias::run(pg::Connection& c, const Request& r) {
    co_await data::begin(c);
    co_await c.query(kDeleteAlias, r.tenant_id, r.user_id, r.alias, r.ip, r.user_agent);
    co_await refresh_search_tokens(c, r.tenant_id, r.user_id);
    co_await data::commit(c);
    co_return Empty{};
}

core::Task<core::Result<ListAliasAudit::Response>> ListAliasAudit::run(pg::Connection& c,
                                                                       const Request& r) {
    auto rows = co_await c.query(kListAudit, r.tenant_id, r.user_id, micros(r.from_unix_nanos),
                                 micros(r.to_unix_nanos), r.action, micros(r.cursor_unix_nanos),
                                 r.cursor_id, r.limit);
    Response out;
    for (int i = 0; i < rows.size(); ++i) {
        out.items.push_back(AliasAudit{rows.string(i, 0), rows.int64(i, 1), rows.int64(i, 2),
                                       rows.string(i, 3), rows.string(i, 4), rows.int64(i, 5),
                                       rows.string(i, 6), rows.string(i, 7), rows.time(i, 8),
                                       rows.unix_nanos(i, 8)});
    }
    co_return out;
}

core::Task<core::Result<SeedAdmin::Response>> SeedAdmin::run(pg::Connection& c, const Request& r) {
    co_await data::begin(c);
    co_await c.query(kSeedTenant, r.tenant_id);
    auto root = co_await c.query(kRootOrgUnit, r.tenant_id);
    std::int64_t org_id = 0;
    if (root.empty()) {
        auto created = co_await c.query(kInsertRootOrgUnit, r.tenant_id);
        org_id = created.int64(0, 0);
    } else {
        org_id = root.int64(0, 0);
    }
    Response out;
    auto existing = co_await c.query(kFindUserByEmail, r.tenant_id, r.email);
    if (!existing.empty()) {
        out.user_id = existing.int64(0, 0);
        co_await c.query(kPromoteAdmin, r.tenant_id, out.user_id, r.name, r.title, r.password_hash,
                         r.replace_password);
    } else {
        auto rows = co_await c.query(kInsertAdmin, r.tenant_id, org_id, r.email, r.name, r.title,
                                     r.password_hash);
        out.user_id = rows.int64(0, 0);
        out.created = true;
    }
    co_await refresh_search_tokens(c, r.tenant_id, out.user_id);
    co_await data::commit(c);
    co_return out;
}

}  // namespace msg::org
