#include "tenant/move.hpp"

#include <array>
#include <string_view>

#include "data/executor.hpp"
#include "storage/pg/connection.hpp"
#include "tenant/dedicated.hpp"
#include "tenant/operations.hpp"

namespace msg::tenant {

namespace {

/// A tenant-scoped table: copied in this order (parents before children) and purged in the
/// reverse one. `key` orders the copy and resumes it (a column list, unique per tenant);
/// `whole` tables go in one statement (org_units refers to itself: a parent with a larger id
/// than its child must be in the same statement, whose foreign-key checks run at its end).
struct Table {
    std::string_view name;
    std::string_view key;
    bool identity = false;  // `id` is GENERATED ALWAYS: copied with OVERRIDING SYSTEM VALUE
    bool whole = false;
    std::string_view pending;  // a filter on the rows worth copying ("" = all)
};

constexpr std::array kTables = {
    // name, key, identity, whole, pending
    Table{"org_units", "id", true, true, ""},
    Table{"users", "id", true, false, ""},
    Table{"user_aliases", "user_id, alias", false, false, ""},
    Table{"alias_audit", "id", true, false, ""},
    Table{"chat_rooms", "id", true, false, ""},
    Table{"room_members", "room_id, user_id", false, false, ""},
    Table{"messages", "id", true, false, ""},
    Table{"files", "id", true, false, ""},
    Table{"notes", "id", true, false, ""},
    Table{"note_recipients", "note_id, user_id", false, false, ""},
    Table{"note_files", "note_id, position", false, false, ""},
    Table{"chat_notifications", "id", true, false, ""},
    Table{"device_sessions", "session_id", false, false, ""},
    Table{"outbox", "id", true, false, "published_at IS NULL"},
};

/// "a, b" → "a DESC, b DESC".
std::string descending(std::string_view key) {
    std::string out;
    std::size_t start = 0;
    while (start <= key.size()) {
        const auto comma = key.find(',', start);
        const auto end = comma == std::string_view::npos ? key.size() : comma;
        if (!out.empty()) out += ", ";
        out += key.substr(start, end - start);
        out += " DESC";
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return out;
}

std::string where_pending(const Table& t) {
    return t.pending.empty() ? std::string() : " AND " + std::string(t.pending);
}

/// One page of the tenant's rows after the row `$2` (JSON of the last row copied, "" = from
/// the start): the page as a JSON array, its size, and its last row as the next cursor.
std::string page_sql(const Table& t) {
    const std::string name(t.name), key(t.key);
    std::string sql = "SELECT coalesce(json_agg(row_to_json(p) ORDER BY " + key +
                      "), '[]')::text, count(*), (array_agg(row_to_json(p)::text ORDER BY " +
                      descending(t.key) + "))[1] FROM (SELECT * FROM " + name +
                      " WHERE tenant_id = $1" + where_pending(t);
    if (!t.whole) {
        sql += " AND ($2 = '' OR (" + key + ") > (SELECT " + key +
               " FROM json_populate_record(NULL::" + name + ", nullif($2, '')::json)))" +
               " ORDER BY " + key + " LIMIT $3";
    }
    return sql + ") p";
}

std::string insert_sql(const Table& t) {
    const std::string name(t.name);
    return "INSERT INTO " + name + (t.identity ? " OVERRIDING SYSTEM VALUE" : "") +
           " SELECT * FROM json_populate_recordset(NULL::" + name +
           ", $1::json) ON CONFLICT DO NOTHING";
}

/// Where a resumed copy goes on: the target's last row of the tenant.
std::string last_sql(const Table& t) {
    const std::string name(t.name);
    return "SELECT row_to_json(l)::text FROM (SELECT * FROM " + name +
           " WHERE tenant_id = $1 ORDER BY " + descending(t.key) + " LIMIT 1) l";
}

std::string count_sql(const Table& t, bool pending) {
    return "SELECT count(*) FROM " + std::string(t.name) + " WHERE tenant_id = $1" +
           (pending ? where_pending(t) : std::string());
}

/// New ids in the target come after every copied one.
std::string bump_identity_sql(const Table& t) {
    const std::string name(t.name);
    return "SELECT setval(pg_get_serial_sequence('" + name +
           "', 'id'), GREATEST((SELECT max(id) FROM " + name +
           "), nextval(pg_get_serial_sequence('" + name + "', 'id'))))";
}

constexpr std::string_view kRegistry =
    "SELECT deployment_mode, dedicated_dsn, move_dsn,"
    " extract(epoch FROM now() - coalesce(move_started_at, now()))::bigint, name, is_active"
    " FROM tenants WHERE tenant_id = $1";
constexpr std::string_view kRecordMove =
    "UPDATE tenants SET move_dsn = $2, move_started_at = now(), updated_at = now()"
    " WHERE tenant_id = $1 AND move_dsn = ''";
constexpr std::string_view kFinishMove =
    "UPDATE tenants SET deployment_mode = 'dedicated', dedicated_dsn = move_dsn, move_dsn = '',"
    " move_started_at = NULL, updated_at = now() WHERE tenant_id = $1 AND move_dsn <> ''";
constexpr std::string_view kIdentity = "SELECT id::text FROM database_identity";
constexpr std::string_view kMigrated =
    "SELECT to_regclass('database_identity') IS NOT NULL, to_regclass('users') IS NOT NULL";
constexpr std::string_view kOlderTransactions =
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND xact_start <"
    " (SELECT move_started_at FROM tenants WHERE tenant_id = $1) + make_interval(secs => $2)";
constexpr std::string_view kAbortMove =
    "UPDATE tenants SET move_dsn = '', move_started_at = NULL, updated_at = now()"
    " WHERE tenant_id = $1 AND move_dsn <> ''";
constexpr std::string_view kOthersData =
    "SELECT EXISTS (SELECT 1 FROM users WHERE tenant_id <> $1)"
    " OR EXISTS (SELECT 1 FROM org_units WHERE tenant_id <> $1)"
    " OR EXISTS (SELECT 1 FROM chat_rooms WHERE tenant_id <> $1)"
    " OR EXISTS (SELECT 1 FROM notes WHERE tenant_id <> $1)";

}  // namespace

core::Task<core::Result<MoveStart>> begin_move(pg::Connection& shared, const SecretBox& box,
                                               const std::string& tenant, const std::string& dsn) {
    auto rows = co_await shared.query(kRegistry, tenant);
    if (rows.empty()) co_return core::not_found("tenant not found");
    const std::string mode = rows.string(0, 0);
    const auto opened = [&box](const std::string& sealed) {
        auto plain = box.open(sealed);
        return plain ? *plain : std::string();  // unreadable: matches no DSN
    };
    const std::string recorded = rows.string(0, 2);
    if (!recorded.empty()) {
        if (opened(recorded) != dsn) {
            co_return core::conflict(
                "another move of this tenant is recorded (to another database)");
        }
        co_return MoveStart{MovePhase::copy, std::chrono::seconds(rows.int64(0, 3))};
    }
    if (mode == "dedicated") {
        if (opened(rows.string(0, 1)) == dsn) co_return MoveStart{MovePhase::purge, {}};
        co_return core::conflict("tenant is already dedicated to another database");
    }
    const std::string sealed = box.seal(dsn);
    auto recorded_now = co_await shared.query(kRecordMove, tenant, sealed);
    if (recorded_now.affected() != 1)
        co_return core::conflict("tenant changed meanwhile; run again");
    co_return MoveStart{MovePhase::copy, std::chrono::seconds(0)};
}

core::Task<core::Result<std::vector<MovedTable>>> copy_tenant(pg::Connection& source,
                                                              pg::Connection& target,
                                                              const std::string& tenant,
                                                              int batch_rows) {
    auto registry = co_await source.query(kRegistry, tenant);
    if (registry.empty()) co_return core::not_found("tenant not found");
    if (registry.string(0, 2).empty())
        co_return core::conflict("no move of this tenant is recorded");
    // Before anything is written there: the target is not the source under another name, and
    // holds no one else's rows (ids are kept; only the source made them unique).
    auto migrated = co_await target.query(kMigrated);
    if (migrated.boolean(0, 0)) {
        auto source_id = co_await source.query(kIdentity);
        auto target_id = co_await target.query(kIdentity);
        if (!target_id.empty() && target_id.string(0, 0) == source_id.string(0, 0)) {
            co_return core::conflict("the target is the shared database itself");
        }
    }
    if (migrated.boolean(0, 1)) {
        auto others = co_await target.query(kOthersData, tenant);
        if (others.boolean(0, 0)) {
            co_return core::conflict("the target database holds another tenant's data");
        }
    }
    // The target's schema and the tenant's own row (what logins there check).
    ProvisionTenant::Request provision{tenant, registry.string(0, 4), registry.boolean(0, 5), {}};
    auto provisioned = co_await ProvisionTenant::run(target, provision);
    if (!provisioned) co_return provisioned.error();

    std::vector<MovedTable> out;
    for (const Table& t : kTables) {
        MovedTable moved{std::string(t.name)};
        // Built outside the co_await expressions (GCC 12: no class temporaries in them).
        const std::string page = page_sql(t), insert = insert_sql(t), last_row = last_sql(t);
        const std::string bump = bump_identity_sql(t), counted = count_sql(t, true),
                          all = count_sql(t, false);
        auto last = co_await target.query(last_row, tenant);
        std::string cursor = last.empty() || t.whole ? std::string() : last.string(0, 0);
        for (;;) {
            pg::Rows rows;
            if (t.whole) {
                rows = co_await source.query(page, tenant);
            } else {
                rows = co_await source.query(page, tenant, cursor, batch_rows);
            }
            const std::int64_t n = rows.int64(0, 1);
            if (n == 0) break;
            const std::string json_page = rows.string(0, 0);
            auto inserted = co_await target.query(insert, json_page);
            moved.copied += inserted.affected();
            if (t.whole || n < batch_rows) break;
            cursor = rows.string(0, 2);
        }
        if (t.identity) co_await target.query(bump);
        auto at_source = co_await source.query(counted, tenant);
        auto at_target = co_await target.query(all, tenant);
        moved.source = at_source.int64(0, 0);
        moved.target = at_target.int64(0, 0);
        out.push_back(std::move(moved));
    }
    for (const auto& m : out) {
        // The outbox's pending rows only shrink at the source (its relay goes on publishing).
        const bool events = m.table == "outbox";
        if (events ? m.target < m.source : m.target != m.source) {
            co_return core::conflict("row counts differ in " + m.table + ": run the move again");
        }
    }
    co_return out;
}

core::Task<std::int64_t> writes_begun_before(pg::Connection& shared, const std::string& tenant,
                                             std::chrono::seconds after_start) {
    const auto seconds = static_cast<std::int64_t>(after_start.count());
    auto rows = co_await shared.query(kOlderTransactions, tenant, seconds);
    co_return rows.int64(0, 0);
}

core::Task<core::Result<void>> abort_move(pg::Connection& shared, const std::string& tenant) {
    auto rows = co_await shared.query(kAbortMove, tenant);
    if (rows.affected() != 1) co_return core::conflict("no move of this tenant is recorded");
    co_return core::Result<void>{};
}

std::vector<std::string> moved_tables() {
    std::vector<std::string> out;
    for (const Table& t : kTables) out.emplace_back(t.name);
    return out;
}

core::Task<core::Result<void>> finish_move(pg::Connection& shared, const std::string& tenant) {
    auto rows = co_await shared.query(kFinishMove, tenant);
    if (rows.affected() != 1) co_return core::conflict("no move of this tenant is recorded");
    co_return core::Result<void>{};
}

core::Task<core::Result<std::int64_t>> purge_moved(pg::Connection& shared,
                                                   const std::string& tenant, int batch_rows) {
    auto registry = co_await shared.query(kRegistry, tenant);
    if (registry.empty()) co_return core::not_found("tenant not found");
    if (registry.string(0, 0) != "dedicated" || !registry.string(0, 2).empty()) {
        co_return core::conflict("the tenant's rows are still served from the shared database");
    }
    std::int64_t deleted = 0;
    for (auto it = kTables.rbegin(); it != kTables.rend(); ++it) {
        const std::string name(it->name);
        const std::string sql = "DELETE FROM " + name + " WHERE ctid IN (SELECT ctid FROM " + name +
                                " WHERE tenant_id = $1 LIMIT $2)";
        for (;;) {
            auto rows = co_await shared.query(sql, tenant, batch_rows);
            deleted += rows.affected();
            if (rows.affected() < batch_rows) break;
        }
    }
    co_return deleted;
}

}  // namespace msg::tenant
