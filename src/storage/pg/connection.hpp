#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/task.hpp"

namespace boost::asio {
class io_context;
}

namespace msg::pg {

/// A statement failed on the server (constraint, syntax, serialization…). `sqlstate` is the
/// five-character code (23505 unique violation, 23503 foreign key violation…).
class SqlError : public std::runtime_error {
  public:
    SqlError(std::string sqlstate, const std::string& message, std::string constraint)
        : std::runtime_error(message),
          sqlstate_(std::move(sqlstate)),
          constraint_(std::move(constraint)) {}
    const std::string& sqlstate() const { return sqlstate_; }
    const std::string& constraint() const { return constraint_; }
    bool unique_violation() const { return sqlstate_ == "23505"; }
    bool foreign_key_violation() const { return sqlstate_ == "23503"; }

  private:
    std::string sqlstate_;
    std::string constraint_;
};

/// Text-format query parameters; nullopt is SQL NULL.
using Param = std::optional<std::string>;
using Params = std::vector<Param>;

Param param(std::int64_t v);
Param param(int v);
Param param(std::size_t v);
Param param(std::string_view v);
Param param(const std::string& v);
Param param(const char* v);
Param param(bool v);
/// A bigint[] parameter ("{1,2,3}"), for `= ANY($n::bigint[])` and `unnest($n::bigint[])`.
Param param(const std::vector<std::int64_t>& v);
/// A text[] parameter, for `unnest($n::text[])` and text[] columns.
Param param(const std::vector<std::string>& v);
/// A text[] parameter whose nullopt elements are SQL NULL.
Param param(const std::vector<std::optional<std::string>>& v);
template <class T>
Param param(const std::optional<T>& v) {
    return v ? param(*v) : Param{};
}

/// Rows of one statement, text format. Column access by index, in SELECT order.
class Rows {
  public:
    Rows() = default;
    explicit Rows(PGresult* r) : result_(r) {}

    int size() const { return result_ ? PQntuples(result_.get()) : 0; }
    bool empty() const { return size() == 0; }
    /// Rows changed by INSERT/UPDATE/DELETE.
    std::int64_t affected() const;

    bool is_null(int row, int col) const;
    std::string_view text(int row, int col) const;
    std::string string(int row, int col) const { return std::string(text(row, col)); }
    std::int64_t int64(int row, int col) const;
    std::optional<std::int64_t> opt_int64(int row, int col) const;
    /// A bigint[] column ("{1,2,3}"); NULL → empty.
    std::vector<std::int64_t> int64_array(int row, int col) const;
    bool boolean(int row, int col) const;
    /// A timestamptz column as RFC 3339 UTC ("2026-11-27T07:39:34.123456Z"); the session
    /// TimeZone is UTC.
    std::string time(int row, int col) const;
    /// A timestamptz column as Unix nanoseconds (for keyset cursors).
    std::int64_t unix_nanos(int row, int col) const;

  private:
    struct Clear {
        void operator()(PGresult* r) const { PQclear(r); }
    };
    std::unique_ptr<PGresult, Clear> result_;
};

/// One non-blocking libpq connection driven by the event loop: waiting for the server
/// suspends the coroutine, never the thread. Not thread-safe: one user at a time (the Pool
/// hands it out exclusively). Statements sent with query() are prepared once per connection.
class Connection {
  public:
    struct Options {
        std::string dsn;
        std::chrono::milliseconds connect_timeout{5000};
        std::chrono::milliseconds statement_timeout{30000};
    };

    /// Throws core::UnavailableException when the server cannot be reached in time.
    static core::Task<std::unique_ptr<Connection>> connect(boost::asio::io_context& io,
                                                           const Options& options);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// One parameterised statement (extended protocol, prepared on first use). Arguments are
    /// converted with param(): `co_await conn.query(kSql, tenant_id, user_id)`.
    template <class... Args>
    core::Task<Rows> query(std::string_view sql, const Args&... args) {
        // Built here, outside any coroutine: GCC 12 miscompiles a braced-init-list temporary
        // inside a co_await expression ("array used as initializer").
        return query_params(sql, Params{param(args)...});
    }
    core::Task<Rows> query_params(std::string_view sql, Params params);
    /// Like query(), but parsed and planned on every call with the actual values (unnamed
    /// statement, so never a generic plan): for statements whose best plan depends on them —
    /// a search term found in half the table wants a backward id scan, a rare one the GIN index.
    template <class... Args>
    core::Task<Rows> query_replanned(std::string_view sql, const Args&... args) {
        return query_params_unprepared(sql, Params{param(args)...});
    }
    core::Task<Rows> query_params_unprepared(std::string_view sql, Params params);
    /// Raw SQL through the simple protocol (several statements allowed, no parameters):
    /// migrations, BEGIN/COMMIT/ROLLBACK.
    core::Task<void> execute(std::string_view sql);

    bool in_transaction() const;
    bool broken() const;

  private:
    struct Impl;
    explicit Connection(std::unique_ptr<Impl> impl);
    core::Task<Rows> finish(bool expect_rows);
    std::unique_ptr<Impl> impl_;
};

}  // namespace msg::pg
