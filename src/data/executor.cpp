#include "data/executor.hpp"

#include <exception>

namespace msg::data {

core::Task<std::optional<pg::Pool::Lease>> Executor::replica_lease(std::string_view tenant) {
    std::optional<pg::Pool::Lease> lease;
    bool unavailable = false;
    try {
        auto got = co_await replica_->acquire();
        lease.emplace(std::move(got));
        const bool ready = co_await fence_->caught_up(**lease, tenant);
        if (!ready) lease.reset();
    } catch (const std::exception&) {
        unavailable = true;  // a replica outage degrades reads to the primary, never fails them
    }
    if (unavailable) lease.reset();
    fence_->count(lease.has_value(), unavailable);
    co_return lease;
}

core::Task<void> begin(pg::Connection& conn) { co_await conn.execute("BEGIN"); }
core::Task<void> commit(pg::Connection& conn) { co_await conn.execute("COMMIT"); }
core::Task<void> rollback(pg::Connection& conn) { co_await conn.execute("ROLLBACK"); }

}  // namespace msg::data
