#include "session/presence.hpp"

#include <utility>

#include "core/log.hpp"
#include "org/service.hpp"
#include "session/events.hpp"
#include "session/model.hpp"

namespace msg::session {

namespace {

/// Nothing left to tell the directory or the database about this user.
bool settled(const auto& state, bool with_directory) {
    const bool here = state.sockets > 0;
    if (!with_directory || !state.registered) return state.applied == here;
    // Held here: the database must say online. Not held here: whether the user is online is
    // for the nodes that hold them (or the one that saw the last socket go) to write.
    return *state.registered == here && (!here || state.applied == true);
}

}  // namespace

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

std::vector<Presence::Key> Presence::local_users() const {
    std::lock_guard lock(mutex_);
    std::vector<Key> out;
    out.reserve(users_.size());
    for (const auto& [key, state] : users_) {
        if (state.sockets > 0) out.push_back(key);
    }
    return out;
}

void Presence::changed(const Key& key, int delta) {
    {
        std::lock_guard lock(mutex_);
        State& state = users_[key];
        state.sockets += delta;
        if (state.running) return;  // the running sync sees the new count
        if (settled(state, directory_ != nullptr)) {
            if (state.sockets <= 0) users_.erase(key);
            return;
        }
        state.running = true;
    }
    // Outside the lock: the spawn may start the coroutine right here on an I/O thread.
    tasks_.spawn(sync(key));
}

core::Task<bool> Presence::online_anywhere(const Key& key, bool here) {
    if (directory_ == nullptr) co_return here;
    std::optional<bool> registered;
    {
        std::lock_guard lock(mutex_);
        registered = users_[key].registered;
    }
    std::optional<bool> anywhere;
    if (registered != here) {
        anywhere = co_await directory_->set_here(key, here);
    } else {
        anywhere = co_await directory_->online(key);
    }
    std::lock_guard lock(mutex_);
    if (anywhere) {
        users_[key].registered = here;
        co_return *anywhere;
    }
    // Unreachable: this node's own count decides, and what the directory holds of this user
    // is unknown until the next heartbeat makes it match the local sockets again (and hands
    // the user back to settle). No retry loop against a directory that is down.
    users_[key].registered.reset();
    co_return here;
}

core::Task<void> Presence::sync(Key key) {
    for (;;) {
        bool here = false;
        {
            std::lock_guard lock(mutex_);
            State& state = users_[key];
            here = state.sockets > 0;
            if (std::exchange(state.recheck, false)) {
                // The directory's view changed under us (a heartbeat re-registered or removed
                // the user, another node's crash released them): nothing we wrote counts.
                state.applied.reset();
                state.registered.reset();
            } else if (settled(state, directory_ != nullptr)) {
                state.running = false;
                if (state.sockets <= 0) users_.erase(key);
                co_return;
            }
        }
        bool online = co_await online_anywhere(key, here);
        for (;;) {
            {
                std::lock_guard lock(mutex_);
                if (users_[key].applied == online) break;
            }
            co_await apply(key, online);
            if (directory_ == nullptr) break;
            // Two nodes can write crosswise (one saw the last socket go, the other a new one
            // come): whoever writes checks the directory again after its write, and the last
            // write is always followed by such a check.
            online = co_await online_anywhere(key, here);
        }
    }
}

core::Task<void> Presence::apply(const Key& key, bool online) {
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
        core::logger("session")->warn("presence update failed user_id={} error=\"{}\"", key.second,
                                      failure);
    }
    if (change) events_.broadcast_tenant(key.first, status_changed_event(key.first, *change));
    std::lock_guard lock(mutex_);
    users_[key].applied = online;
}

void Presence::start(core::Timers& timers) {
    if (directory_ == nullptr) return;
    tasks_.spawn(beat(&timers));
}

void Presence::resettle(const Key& key) {
    {
        std::lock_guard lock(mutex_);
        State& state = users_[key];
        state.recheck = true;
        if (state.running) return;  // the running sync starts over
        state.running = true;
    }
    tasks_.spawn(sync(key));
}

core::Task<void> Presence::beat(core::Timers* timers) {
    const std::function<std::vector<Key>()> locals = [this] { return local_users(); };
    const auto settle = co_await directory_->heartbeat(locals);
    for (const auto& key : settle) resettle(key);
    if (stopping_) co_return;
    timers->after(directory_->beat_every(), [this, timers] {
        if (!stopping_) tasks_.spawn(beat(timers));
    });
}

}  // namespace msg::session
