#include "org/credentials.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/log.hpp"
#include "data/executor.hpp"
#include "org/operations.hpp"

namespace msg::org {

namespace json = boost::json;
using core::Result;
using core::Task;

Credentials::Credentials(data::Executor& db, bus::Bus& bus, const core::Clock& clock,
                         Options options)
    : db_(db), bus_(bus), clock_(clock), options_(options) {
    subscription_ = bus_.subscribe(
        kCredentialsChannel,
        [this](const bus::Payload& payload) {
            boost::system::error_code ec;
            auto v = json::parse(*payload, ec);
            const json::object* o = ec ? nullptr : v.if_object();
            const json::value* tenant = o ? o->if_contains("tenant_id") : nullptr;
            const json::value* user = o ? o->if_contains("user_id") : nullptr;
            if (!tenant || !tenant->is_string() || !user || !user->is_int64()) {
                core::logger("auth")->warn("unreadable credentials revocation dropped");
                return;
            }
            apply(std::string(tenant->get_string()), user->get_int64());
        },
        [this] { forget_all(); });
}

void Credentials::forget_all() {
    // Revocations published while the bus was away may be lost: every cached state is asked
    // of the database again (a request's next check, not a query per request from here on).
    std::lock_guard lock(mutex_);
    ++epoch_;
    users_.clear();
    tenants_.clear();
}

Task<Result<void>> Credentials::check(const core::Principal& who) {
    const auto now = clock_.now();
    const UserKey key{who.tenant_id, who.user_id};
    std::optional<TenantState> tenant;
    std::optional<UserState> user;
    std::uint64_t epoch = 0;
    {
        std::lock_guard lock(mutex_);
        epoch = epoch_;
        if (auto t = tenants_.find(who.tenant_id);
            t != tenants_.end() && now - t->second.fetched < options_.ttl) {
            tenant = t->second;
        }
        if (auto u = users_.find(key);
            u != users_.end() && now - u->second.fetched < options_.ttl) {
            user = u->second;
        }
    }
    if (!tenant || !user) {
        auto loaded = co_await db_.run<LoadCredentials>(who.tenant_id, who.user_id);
        if (!loaded) co_return loaded.error();
        tenant = TenantState{loaded->tenant_active, now};
        user = UserState{loaded->user_active, loaded->token_version, now};
        std::lock_guard lock(mutex_);
        if (epoch == epoch_) {  // no revocation ran while we read: the state is current
            trim_locked(now);
            tenants_[who.tenant_id] = *tenant;
            users_[key] = *user;
        }
    }
    if (!tenant->active) co_return core::unauthorized("tenant suspended");
    if (!user->active || user->version != who.token_version) {
        co_return core::unauthorized("token revoked");
    }
    co_return Result<void>{};
}

void Credentials::trim_locked(core::Clock::time_point now) {
    if (users_.size() < options_.max_entries) return;
    std::erase_if(users_, [&](const auto& e) { return now - e.second.fetched >= options_.ttl; });
    std::erase_if(tenants_, [&](const auto& e) { return now - e.second.fetched >= options_.ttl; });
    if (users_.size() >= options_.max_entries) users_.clear();  // only costs queries
}

bool Credentials::watch(const core::Principal& who,
                        const std::shared_ptr<core::WsConnection>& socket) {
    std::lock_guard lock(mutex_);
    auto& list = sockets_[{who.tenant_id, who.user_id}];
    if (list.size() >= options_.max_sockets_per_user) return false;
    list.push_back({socket->id(), socket});
    ++watched_;
    return true;
}

void Credentials::unwatch(const core::Principal& who, std::uint64_t socket_id) {
    std::lock_guard lock(mutex_);
    auto it = sockets_.find({who.tenant_id, who.user_id});
    if (it == sockets_.end()) return;
    auto& list = it->second;
    for (auto s = list.begin(); s != list.end(); ++s) {
        if (s->id == socket_id) {
            list.erase(s);
            --watched_;
            break;
        }
    }
    if (list.empty()) sockets_.erase(it);
}

std::size_t Credentials::watched() const {
    std::lock_guard lock(mutex_);
    return watched_;
}

void Credentials::revoke_user(const std::string& tenant_id, std::int64_t user_id) {
    apply(tenant_id, user_id);  // this node at once, whatever the bus does
    publish(tenant_id, user_id);
}

void Credentials::revoke_tenant(const std::string& tenant_id) {
    apply(tenant_id, 0);
    publish(tenant_id, 0);
}

void Credentials::publish(const std::string& tenant_id, std::int64_t user_id) {
    const json::object message{{"tenant_id", tenant_id}, {"user_id", user_id}};
    bus_.publish(kCredentialsChannel,
                 std::make_shared<const std::string>(json::serialize(message)));
}

void Credentials::apply(const std::string& tenant_id, std::int64_t user_id) {
    std::vector<std::shared_ptr<core::WsConnection>> to_close;
    {
        std::lock_guard lock(mutex_);
        ++epoch_;
        auto collect = [&](std::vector<Watched>& list) {
            for (auto& w : list) {
                if (auto s = w.socket.lock()) to_close.push_back(std::move(s));
            }
        };
        if (user_id == 0) {
            tenants_.erase(tenant_id);
            auto first = sockets_.lower_bound({tenant_id, 0});
            for (auto it = first; it != sockets_.end() && it->first.first == tenant_id; ++it) {
                collect(it->second);
            }
        } else {
            users_.erase({tenant_id, user_id});
            if (auto it = sockets_.find({tenant_id, user_id}); it != sockets_.end()) {
                collect(it->second);
            }
        }
    }
    // Outside the lock (STYLE 9); close() only posts to each socket's thread. The sockets
    // unwatch themselves as they end.
    const char* reason = user_id == 0 ? "tenant suspended" : "token revoked";
    for (auto& s : to_close) s->close(core::kCloseUnauthorized, reason);
}

}  // namespace msg::org
