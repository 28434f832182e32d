#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "data/tenant_router.hpp"
#include "storage/pg/pool.hpp"
#include "tenant/dedicated.hpp"

namespace boost::asio {
class io_context;
}
namespace msg::core {
class Clock;
}

namespace msg::tenant {

/// data::TenantRouter over the registry in the shared database: a tenant whose
/// `deployment_mode` is `dedicated` gets a pool on its (opened) `dedicated_dsn`, every other
/// tenant — and one the registry does not know — the shared database. What it read is cached
/// per tenant for `ttl` (no negative caching: unknown tenant ids cost a lookup, never
/// memory) — with whether a move is under way (`move_dsn` set: writes refused) — and dropped at
/// once by invalidate(), which the executor calls after a registry write and the node calls on
/// every bus message `tenants:changed`. One pool per distinct DSN; a changed or dropped DSN's pool
/// closes when the last operation using it ends.
class DatabaseRouter final : public data::TenantRouter {
  public:
    struct Options {
        pg::PoolOptions pool;  // size and timeouts of each dedicated pool (the DSN is replaced)
        std::chrono::milliseconds ttl{30'000};
    };

    DatabaseRouter(boost::asio::io_context& io, pg::Pool& shared, std::string_view secrets_key,
                   const core::Clock& clock, Options options);

    core::Task<Route> route(std::string_view tenant) override;
    std::shared_ptr<pg::Pool> pool_at(std::string_view sealed_dsn) override;
    void invalidate(std::string_view tenant) override;
    /// Forgets every route (the bus may have lost invalidations while it reconnected).
    void invalidate_all();

    /// Every dedicated database the registry names now, one entry per distinct DSN with one
    /// of its tenants: what the outbox relay and `migrate` walk.
    struct Dedicated {
        std::string tenant_id;
        std::string key;  // stable per database, never the DSN itself (a hash of it)
        std::shared_ptr<pg::Pool> pool;
    };
    core::Task<std::vector<Dedicated>> dedicated_databases();

    std::size_t open_pools() const;

  private:
    struct Cached {
        std::string dsn;  // "" for the shared database
        bool moving = false;
        std::chrono::steady_clock::time_point expires;
    };
    /// The pool for an opened DSN, made on first use. Under mutex_.
    std::shared_ptr<pg::Pool> pool_for_locked(const std::string& dsn);
    /// Drops pools no cached route names any more. Under mutex_.
    void prune_locked();
    /// The opened DSN of a registry row ("" for shared); throws when it cannot be opened.
    std::string dsn_of(const std::string& tenant, const std::string& mode,
                       const std::string& sealed) const;

    boost::asio::io_context& io_;
    pg::Pool& shared_;
    SecretBox box_;
    const core::Clock& clock_;
    Options options_;
    mutable std::mutex mutex_;
    std::map<std::string, Cached, std::less<>> routes_;
    std::uint64_t invalidations_ = 0;  // a route read while one happened is not cached
    std::map<std::string, std::shared_ptr<pg::Pool>, std::less<>> pools_;  // by DSN
};

}  // namespace msg::tenant
