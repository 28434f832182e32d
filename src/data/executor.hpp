#pragma once

#include <string_view>
#include <typeindex>

#include "core/error.hpp"
#include "core/task.hpp"
#include "data/remote.hpp"
#include "storage/pg/pool.hpp"

namespace msg::data {

/// May an operation be sent again after an attempt may have reached a server (a timeout, a
/// 5xx)? Read-only ones may. A write says so with `static constexpr bool kIdempotent = true`
/// when running it twice has the effect of once (an upsert, a delete by key, a monotonic mark),
/// or per request with `static bool idempotent(const Request&)` (a send with a client_msg_id).
template <class Op>
bool idempotent(const typename Op::Request& r) {
    if constexpr (requires { Op::idempotent(r); }) {
        return Op::idempotent(r);
    } else if constexpr (requires { Op::kIdempotent; }) {
        return Op::kIdempotent;
    } else {
        return Op::kReadOnly;
    }
}

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
/// A local executor runs operations on the shared pool (read-only ones on the replica pool
/// when one is configured); a remote one sends them to the dbman tier (DBMAN_ENDPOINTS,
/// data/dbman_client.hpp), behind the same run<Op>() call.
class Executor {
  public:
    explicit Executor(pg::Pool& primary, pg::Pool* replica = nullptr)
        : primary_(&primary), replica_(replica) {}
    explicit Executor(Remote& remote) : remote_(&remote) {}

    bool remote() const { return remote_ != nullptr; }

    /// `co_await db.run<GetUser>(tenant_id, user_id)`: the arguments initialise Op::Request
    /// (or pass one Request). The request is built here, in a plain function: GCC 12 destroys
    /// class-type temporaries of a co_await expression twice, so callers pass lvalues and
    /// scalars only (scripts/lint.py checks for braced lists and string temporaries).
    template <class Op, class... Args>
    core::Task<core::Result<typename Op::Response>> run(Args&&... args) {
        return execute<Op>(typename Op::Request{std::forward<Args>(args)...}, nullptr);
    }

    /// As run(), and `resent` says whether the answer came from sending the operation again
    /// after an attempt that may have run it (remote only; locally always false). A caller
    /// that acts on "created" vs "duplicate" (a send publishes only what it created) treats a
    /// duplicate in such an answer as its own.
    template <class Op, class... Args>
    core::Task<core::Result<typename Op::Response>> run_noting_resend(bool& resent,
                                                                      Args&&... args) {
        resent = false;
        return execute<Op>(typename Op::Request{std::forward<Args>(args)...}, &resent);
    }

  private:
    template <class Op>
    core::Task<core::Result<typename Op::Response>> execute(typename Op::Request request,
                                                            bool* resent) {
        if (remote_ != nullptr) {
            typename Op::Response response{};
            const std::type_index type = typeid(Op);
            const std::string_view name = Op::kName;
            const bool again = idempotent<Op>(request);
            auto done = co_await remote_->call(type, name, &request, &response, again, resent);
            if (!done) co_return done.error();
            co_return response;
        }
        pg::Pool& pool = (Op::kReadOnly && replica_ != nullptr) ? *replica_ : *primary_;
        auto conn = co_await pool.acquire();
        co_return co_await Op::run(*conn, request);
    }

    pg::Pool* primary_ = nullptr;
    pg::Pool* replica_ = nullptr;
    Remote* remote_ = nullptr;
};

/// Runs `BEGIN`; the caller must `co_await commit(conn)` on success. When an exception escapes
/// before COMMIT the pool sees the open transaction and discards the connection, which rolls
/// it back.
core::Task<void> begin(pg::Connection& conn);
core::Task<void> commit(pg::Connection& conn);
core::Task<void> rollback(pg::Connection& conn);

}  // namespace msg::data
