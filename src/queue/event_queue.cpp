#include "queue/event_queue.hpp"

namespace msg::queue {

void InprocQueue::subscribe(const std::string& topic, Consumer consumer) {
    std::lock_guard lock(mutex_);
    consumers_.emplace(topic, std::move(consumer));
}

void InprocQueue::subscribe_async(const std::string& topic, AsyncConsumer consumer) {
    std::lock_guard lock(mutex_);
    async_consumers_.emplace(topic, std::move(consumer));
}

core::Task<void> InprocQueue::publish(const Event& event) {
    std::vector<Consumer> targets;
    std::vector<AsyncConsumer> async_targets;
    {
        std::lock_guard lock(mutex_);
        auto [begin, end] = consumers_.equal_range(event.topic);
        for (auto it = begin; it != end; ++it) targets.push_back(it->second);
        auto [abegin, aend] = async_consumers_.equal_range(event.topic);
        for (auto it = abegin; it != aend; ++it) async_targets.push_back(it->second);
    }
    for (const auto& consumer : targets) consumer(event);
    for (const auto& consumer : async_targets) co_await consumer(event);
}

}  // namespace msg::queue
