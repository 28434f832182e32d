#include "session/presence.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "core/log.hpp"
#include "org/service.hpp"
#include "session/events.hpp"
#include "session/model.hpp"

namespace msg::session {

void Presence::socket_opened(const std::string& tenant_id, std::int64_t user_id) {
    changed({tenant_id, user_id}, +1);
}

void Presence::socket_closed(const std::string& tenant_id, std::int64_t user_id) {
    changed({tenant_id, user_id}, -1);
}

std::size_t Presence::users() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& [key, state] : users_) n += state.sockets > 0 ? 1 : 0;
    return n;
}

void Presence::changed(const Key& key, int delta) {
    {
        std::lock_guard lock(mutex_);
        State& state = users_[key];
        state.sockets += delta;
        if (state.running) return;  // the running sync sees the new count
        const bool online = state.sockets > 0;
        if (state.applied == online) {
            if (state.sockets <= 0) users_.erase(key);
            return;
        }
        state.running = true;
    }
    // Outside the lock: co_spawn may start the coroutine right here on an I/O thread.
    boost::asio::co_spawn(io_, sync(key), boost::asio::detached);
}

core::Task<void> Presence::sync(Key key) {
    for (;;) {
        bool online = false;
        {
            std::lock_guard lock(mutex_);
            State& state = users_[key];
            online = state.sockets > 0;
            if (state.applied == online) {
                state.running = false;
                if (state.sockets <= 0) users_.erase(key);
                co_return;
            }
        }
        std::optional<org::StatusChange> change;
        std::string failure;
        try {
            auto r = co_await org_.set_auto_presence(key.first, key.second, online);
            if (r) change = *r;
        } catch (const std::exception& e) {
            failure = e.what();
        }
        if (!failure.empty()) {
            // Presence is advisory: log and move on rather than retry against a sick database.
            core::logger("session")->warn("presence update failed user_id={} error=\"{}\"",
                                          key.second, failure);
        }
        if (change) events_.broadcast_tenant(key.first, status_changed_event(key.first, *change));
        std::lock_guard lock(mutex_);
        users_[key].applied = online;
    }
}

}  // namespace msg::session
