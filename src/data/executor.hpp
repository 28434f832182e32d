#pragma once

#include <string_view>

#include "core/error.hpp"
#include "core/task.hpp"
#include "storage/pg/pool.hpp"

namespace msg::data {

/// Runs data operations (ARCHITECTURE §5). Domain services reach the database only through
/// here. An operation is a struct:
///
///     struct CreateOrgUnit {
///         static constexpr std::string_view kName = "org-units/create";  // dbman path
///         static constexpr bool kReadOnly = false;  // true: may run on a read replica
///         struct Request { ... };    // MSG_DESCRIBE_STRUCT: JSON mapping for the remote
///         struct Response { ... };   // executor and the dbman role comes for free
///         static core::Task<core::Result<Response>> run(pg::Connection&, const Request&);
///     };
///
/// Today every operation runs locally on the shared pool (and the replica pool for read-only
/// operations when one is configured). The remote executor (DBMAN_ENDPOINTS) and per-tenant
/// dedicated pools plug in here, behind the same run<Op>() call.
class Executor {
  public:
    explicit Executor(pg::Pool& primary, pg::Pool* replica = nullptr)
        : primary_(primary), replica_(replica) {}

    /// `co_await db.run<GetUser>(tenant_id, user_id)`: the arguments initialise Op::Request
    /// (or pass one Request). The request is built here, in a plain function: GCC 12 destroys
    /// class-type temporaries of a co_await expression twice, so callers pass lvalues and
    /// scalars only (scripts/lint.py checks for braced lists and string temporaries).
    template <class Op, class... Args>
    core::Task<core::Result<typename Op::Response>> run(Args&&... args) {
        return execute<Op>(typename Op::Request{std::forward<Args>(args)...});
    }

  private:
    template <class Op>
    core::Task<core::Result<typename Op::Response>> execute(typename Op::Request request) {
        pg::Pool& pool = (Op::kReadOnly && replica_ != nullptr) ? *replica_ : primary_;
        auto conn = co_await pool.acquire();
        co_return co_await Op::run(*conn, request);
    }

    pg::Pool& primary_;
    pg::Pool* replica_;
};

/// Runs `BEGIN`; the caller must `co_await commit(conn)` on success. When an exception escapes
/// before COMMIT the pool sees the open transaction and discards the connection, which rolls
/// it back.
core::Task<void> begin(pg::Connection& conn);
core::Task<void> commit(pg::Connection& conn);
core::Task<void> rollback(pg::Connection& conn);

}  // namespace msg::data
