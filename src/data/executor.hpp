#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <typeindex>

#include "core/error.hpp"
#include "core/task.hpp"
#include "data/remote.hpp"
#include "data/replica.hpp"
#include "data/tenant_router.hpp"
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

/// May an operation run on the read replica? A read (kReadOnly) may, unless it says
/// `static constexpr bool kPrimary = true` (an authorization check, a check before a write, a
/// read that must agree with events a client already has: data/README.md).
template <class Op>
constexpr bool replica_eligible() {
    if constexpr (requires { Op::kPrimary; }) {
        return Op::kReadOnly && !Op::kPrimary;
    } else {
        return Op::kReadOnly;
    }
}

/// Does an operation run where its tenant's data lives (shared or dedicated database)? All do
/// but the tenants registry's own (`static constexpr bool kShared = true`).
template <class Op>
constexpr bool tenant_routed() {
    if constexpr (requires { Op::kShared; }) {
        return !Op::kShared;
    } else {
        return true;
    }
}

/// May an operation write while its tenant is being moved to another database? None may
/// (the copy would miss it) but one that says `static constexpr bool kWhileMoving = true`: a
/// write whose loss is harmless (a session's last_seen_at).
template <class Op>
constexpr bool writes_while_moving() {
    if constexpr (requires { Op::kWhileMoving; }) {
        return Op::kWhileMoving;
    } else {
        return Op::kReadOnly;
    }
}

/// The tenant an operation's request is for ("" when it has none: tenants, the admin seed).
template <class Request>
std::string_view tenant_of(const Request& r) {
    if constexpr (requires { std::string_view(r.tenant_id); }) {
        return r.tenant_id;
    } else {
        return {};
    }
}

/// Runs data operations (ARCHITECTURE §5). Domain services reach the database only through
/// here. An operation is a struct:
///
///     struct CreateOrgUnit {
///         static constexpr std::string_view kName = "org-units/create";  // dbman path
///         static constexpr bool kReadOnly = false;  // true: writes nothing
///         struct Request { ... };    // MSG_DESCRIBE_STRUCT: JSON mapping for the remote
///         struct Response { ... };   // executor and the dbman role comes for free
///         static core::Task<core::Result<Response>> run(pg::Connection&, const Request&);
///     };
///
/// A local executor runs operations on the primary pool, replica-eligible reads on the
/// replica pool when one is configured and has replayed this process's writes for the tenant
/// (ReplicaFence); a remote one sends them to the dbman tier (DBMAN_ENDPOINTS,
/// data/dbman_client.hpp), behind the same run<Op>() call.
class Executor {
  public:
    explicit Executor(pg::Pool& primary, pg::Pool* replica = nullptr)
        : primary_(&primary),
          replica_(replica),
          fence_(replica != nullptr ? std::make_unique<ReplicaFence>() : nullptr) {}
    explicit Executor(Remote& remote) : remote_(&remote) {}

    bool remote() const { return remote_ != nullptr; }
    /// Routes each tenant's operations to its database (local executors; set at start-up).
    void route_tenants(TenantRouter& router) { router_ = &router; }
    /// The read-your-writes fence of a local executor with a replica; null otherwise.
    const ReplicaFence* fence() const { return fence_.get(); }

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
        std::shared_ptr<pg::Pool> dedicated;
        if constexpr (requires { Op::kProvisions; }) {
            // The database the request names (without a router: the one database there is).
            if (router_ != nullptr) dedicated = router_->pool_at(request.dedicated_dsn);
        } else if constexpr (tenant_routed<Op>()) {
            const std::string_view tenant = tenant_of(request);
            if (router_ != nullptr && !tenant.empty()) {
                auto route = co_await router_->route(tenant);
                if (route.moving && !writes_while_moving<Op>()) {
                    co_return core::unavailable("tenant is being moved; try again later");
                }
                dedicated = std::move(route.pool);
            }
        }
        if (dedicated) {  // its own primary: no replica, no fence
            auto conn = co_await dedicated->acquire();
            co_return co_await Op::run(*conn, request);
        }
        if constexpr (replica_eligible<Op>()) {
            if (replica_ != nullptr) {
                auto lease = co_await replica_lease(tenant_of(request));
                if (lease) co_return co_await Op::run(**lease, request);
            }
        }
        auto conn = co_await primary_->acquire();
        auto result = co_await Op::run(*conn, request);
        if constexpr (!Op::kReadOnly) {
            if (fence_ != nullptr) co_await fence_->note_write(*conn, tenant_of(request));
        }
        if constexpr (!tenant_routed<Op>() && !Op::kReadOnly) {
            // A registry change: this process routes the tenant afresh at once (other
            // processes hear of it on the bus, or after the cache's TTL).
            if (router_ != nullptr) router_->invalidate(tenant_of(request));
        }
        co_return result;
    }

    /// A replica connection that has replayed the tenant's noted writes, or none (behind, or
    /// unreachable: the read then runs on the primary).
    core::Task<std::optional<pg::Pool::Lease>> replica_lease(std::string_view tenant);

    pg::Pool* primary_ = nullptr;
    pg::Pool* replica_ = nullptr;
    std::unique_ptr<ReplicaFence> fence_;
    TenantRouter* router_ = nullptr;
    Remote* remote_ = nullptr;
};

/// Runs `BEGIN`; the caller must `co_await commit(conn)` on success. When an exception escapes
/// before COMMIT the pool sees the open transaction and discards the connection, which rolls
/// it back.
core::Task<void> begin(pg::Connection& conn);
core::Task<void> commit(pg::Connection& conn);
core::Task<void> rollback(pg::Connection& conn);

}  // namespace msg::data
