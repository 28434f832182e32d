#include "storage/pg/migrate.hpp"

#include <set>

namespace msg::pg {

namespace {
constexpr std::string_view kLock = "SELECT pg_advisory_lock(727274)";
constexpr std::string_view kUnlock = "SELECT pg_advisory_unlock(727274)";
constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";
constexpr std::string_view kApplied = "SELECT name FROM schema_migrations";
constexpr std::string_view kRecord = "INSERT INTO schema_migrations (name) VALUES ($1)";
}  // namespace

core::Task<std::vector<std::string>> migrate(Connection& conn,
                                             const std::vector<Migration>& migrations) {
    co_await conn.query(kLock);
    std::vector<std::string> applied_now;
    std::exception_ptr failure;
    try {
        co_await conn.execute(kCreateTable);
        std::set<std::string, std::less<>> applied;
        auto rows = co_await conn.query(kApplied);
        for (int i = 0; i < rows.size(); ++i) applied.insert(rows.string(i, 0));
        for (const auto& m : migrations) {
            if (applied.contains(m.name)) continue;
            co_await conn.execute("BEGIN");
            co_await conn.execute(m.sql);
            co_await conn.query(kRecord, m.name);
            co_await conn.execute("COMMIT");
            applied_now.emplace_back(m.name);
        }
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        // The connection is discarded by its owner if it is still inside the transaction; the
        // session-level advisory lock ends with it.
        if (!conn.broken() && conn.in_transaction()) co_await conn.execute("ROLLBACK");
        if (!conn.broken()) co_await conn.query(kUnlock);
        std::rethrow_exception(failure);
    }
    co_await conn.query(kUnlock);
    co_return applied_now;
}

}  // namespace msg::pg
