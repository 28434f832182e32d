#include "bus/inproc_bus.hpp"

#include <vector>

namespace msg::bus {

void InprocBus::publish(const std::string& channel, Payload payload) {
    std::vector<std::shared_ptr<Handler>> handlers;
    {
        std::lock_guard lock(state_->mutex);
        auto it = state_->channels.find(channel);
        if (it == state_->channels.end()) return;
        handlers.reserve(it->second.size());
        for (const auto& [id, h] : it->second) handlers.push_back(h);
    }
    for (const auto& h : handlers) (*h)(payload);
}

Subscription InprocBus::subscribe(const std::string& channel, Handler handler, GapHandler) {
    std::uint64_t id;
    {
        std::lock_guard lock(state_->mutex);
        id = ++state_->next_id;
        state_->channels[channel].emplace(id, std::make_shared<Handler>(std::move(handler)));
    }
    std::weak_ptr<State> weak = state_;
    return Subscription([weak, channel, id] {
        auto state = weak.lock();
        if (!state) return;
        std::lock_guard lock(state->mutex);
        auto it = state->channels.find(channel);
        if (it == state->channels.end()) return;
        it->second.erase(id);
        if (it->second.empty()) state->channels.erase(it);
    });
}

std::size_t InprocBus::channels() const {
    std::lock_guard lock(state_->mutex);
    return state_->channels.size();
}

}  // namespace msg::bus
