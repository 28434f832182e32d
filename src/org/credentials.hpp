#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bus/bus.hpp"
#include "core/clock.hpp"
#include "core/credentials.hpp"

namespace msg::data {
class Executor;
}

namespace msg::org {

/// core::CredentialGuard over the users and tenants tables (issue 12). The state of each
/// tenant (active?) and user (active?, token version) is cached for `ttl`, so a request costs a
/// map lookup and a user a query every `ttl` at most. A revocation is published on the bus
/// channel `credentials:revoked`; every node (this one too) drops the cached state and closes
/// the sockets it holds for that user or tenant with 4401. The ttl bounds the delay when a
/// publish is lost.
///
/// The socket table holds weak references; it is the only per-socket cost (one entry).
class Credentials final : public core::CredentialGuard {
  public:
    struct Options {
        std::chrono::milliseconds ttl{2000};
        std::size_t max_entries = 200'000;      // cached users; over it, stale ones are dropped
        std::size_t max_sockets_per_user = 32;  // on this node (WS_MAX_SOCKETS_PER_USER)
    };
    Credentials(data::Executor& db, bus::Bus& bus, const core::Clock& clock, Options options);

    core::Task<core::Result<void>> check(const core::Principal& who) override;
    bool watch(const core::Principal& who, const std::shared_ptr<core::WsConnection>& s) override;
    void unwatch(const core::Principal& who, std::uint64_t socket_id) override;

    /// After a committed change of the user's token version or active flag, or of the
    /// tenant's active flag: every node forgets it and closes the sockets concerned.
    void revoke_user(const std::string& tenant_id, std::int64_t user_id);
    void revoke_tenant(const std::string& tenant_id);

    std::size_t watched() const;

  private:
    struct TenantState {
        bool active = false;
        core::Clock::time_point fetched;
    };
    struct UserState {
        bool active = false;
        std::int64_t version = 0;
        core::Clock::time_point fetched;
    };
    struct Watched {
        std::uint64_t id;
        std::weak_ptr<core::WsConnection> socket;
    };
    using UserKey = std::pair<std::string, std::int64_t>;

    /// The bus message: drop the cache and close the sockets (user 0: the whole tenant).
    void apply(const std::string& tenant_id, std::int64_t user_id);
    void publish(const std::string& tenant_id, std::int64_t user_id);
    /// The bus may have lost revocations (Redis reconnected): drops every cached state.
    void forget_all();
    void trim_locked(core::Clock::time_point now);

    data::Executor& db_;
    bus::Bus& bus_;
    const core::Clock& clock_;
    Options options_;
    mutable std::mutex mutex_;
    std::uint64_t epoch_ = 0;  // bumped by every revocation: a load that raced one is not kept
    std::unordered_map<std::string, TenantState> tenants_;
    std::map<UserKey, UserState> users_;
    std::map<UserKey, std::vector<Watched>> sockets_;
    std::size_t watched_ = 0;
    bus::Subscription subscription_;  // last: destroyed first, before what its handler uses
};

inline constexpr const char* kCredentialsChannel = "credentials:revoked";

}  // namespace msg::org
