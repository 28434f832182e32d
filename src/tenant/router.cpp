#include "tenant/router.hpp"

#include <set>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "storage/pg/connection.hpp"

namespace msg::tenant {

namespace {
constexpr std::string_view kRoute =
    "SELECT deployment_mode, dedicated_dsn, move_dsn <> '' FROM tenants WHERE tenant_id = $1";
constexpr std::string_view kDedicated =
    "SELECT tenant_id, deployment_mode, dedicated_dsn, move_dsn <> '' FROM tenants"
    " WHERE deployment_mode = 'dedicated' AND dedicated_dsn <> '' ORDER BY tenant_id";
}  // namespace

DatabaseRouter::DatabaseRouter(boost::asio::io_context& io, pg::Pool& shared,
                               std::string_view secrets_key, const core::Clock& clock,
                               Options options)
    : io_(io), shared_(shared), box_(secrets_key), clock_(clock), options_(std::move(options)) {}

std::string DatabaseRouter::dsn_of(const std::string& tenant, const std::string& mode,
                                   const std::string& sealed) const {
    if (mode != "dedicated" || sealed.empty()) return {};
    auto dsn = box_.open(sealed);
    if (!dsn) {
        core::logger("tenant")->error(
            "dedicated database settings unreadable tenant={} error=\"{}\"", tenant,
            dsn.error().message);
        throw core::UnavailableException("tenant database unavailable");
    }
    return harden_dsn(*dsn);
}

std::shared_ptr<pg::Pool> DatabaseRouter::pool_for_locked(const std::string& dsn) {
    auto& pool = pools_[dsn];
    if (!pool) {
        pg::PoolOptions o = options_.pool;
        o.connection.dsn = dsn;
        pool = std::make_shared<pg::Pool>(io_, std::move(o));
    }
    return pool;
}

void DatabaseRouter::prune_locked() {
    std::set<std::string_view> used;
    for (const auto& [tenant, route] : routes_) used.insert(route.dsn);
    for (auto it = pools_.begin(); it != pools_.end();) {
        it = used.contains(it->first) ? std::next(it) : pools_.erase(it);
    }
}

std::shared_ptr<pg::Pool> DatabaseRouter::pool_at(std::string_view sealed_dsn) {
    const std::string dsn = dsn_of("(provisioning)", "dedicated", std::string(sealed_dsn));
    if (dsn.empty()) throw core::UnavailableException("no dedicated database named");
    std::lock_guard lock(mutex_);
    return pool_for_locked(dsn);
}

core::Task<data::TenantRouter::Route> DatabaseRouter::route(std::string_view tenant) {
    const auto now = clock_.steady_now();
    std::uint64_t invalidations = 0;
    {
        std::lock_guard lock(mutex_);
        if (auto it = routes_.find(tenant); it != routes_.end() && it->second.expires > now) {
            const Cached& c = it->second;
            co_return Route{c.dsn.empty() ? nullptr : pool_for_locked(c.dsn), c.moving};
        }
        invalidations = invalidations_;
    }
    const std::string id(tenant);
    pg::Rows rows;
    {
        auto conn = co_await shared_.acquire();
        rows = co_await conn->query(kRoute, id);
    }
    if (rows.empty()) co_return Route{};  // not cached: ids nobody created cost no memory
    const std::string dsn = dsn_of(id, rows.string(0, 0), rows.string(0, 1));
    const bool moving = rows.boolean(0, 2);
    std::lock_guard lock(mutex_);
    // An invalidation while the registry was read may be of a change the read missed: the
    // answer serves this call only.
    if (invalidations == invalidations_) routes_[id] = Cached{dsn, moving, now + options_.ttl};
    prune_locked();  // the tenant's previous DSN, if it changed
    co_return Route{dsn.empty() ? nullptr : pool_for_locked(dsn), moving};
}

void DatabaseRouter::invalidate(std::string_view tenant) {
    std::lock_guard lock(mutex_);
    ++invalidations_;
    if (auto it = routes_.find(tenant); it != routes_.end()) routes_.erase(it);
    prune_locked();
}

void DatabaseRouter::invalidate_all() {
    std::lock_guard lock(mutex_);
    ++invalidations_;
    routes_.clear();
    prune_locked();
}

core::Task<std::vector<DatabaseRouter::Dedicated>> DatabaseRouter::dedicated_databases() {
    std::uint64_t invalidations = 0;
    {
        std::lock_guard lock(mutex_);
        invalidations = invalidations_;
    }
    pg::Rows rows;
    {
        auto conn = co_await shared_.acquire();
        rows = co_await conn->query(kDedicated);
    }
    std::vector<Dedicated> out;
    std::set<std::string> seen;
    const auto expires = clock_.steady_now() + options_.ttl;
    for (int i = 0; i < rows.size(); ++i) {
        const std::string id = rows.string(i, 0);
        std::string dsn;
        try {
            dsn = dsn_of(id, rows.string(i, 1), rows.string(i, 2));
        } catch (const core::UnavailableException&) {
            continue;  // logged; the other tenants' databases still count
        }
        std::lock_guard lock(mutex_);
        if (invalidations == invalidations_) routes_[id] = Cached{dsn, rows.boolean(i, 3), expires};
        if (seen.insert(dsn).second) {
            out.push_back(
                {id, std::to_string(std::hash<std::string>{}(dsn)), pool_for_locked(dsn)});
        }
    }
    co_return out;
}

std::size_t DatabaseRouter::open_pools() const {
    std::lock_guard lock(mutex_);
    return pools_.size();
}

}  // namespace msg::tenant
