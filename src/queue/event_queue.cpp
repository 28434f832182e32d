#include "queue/event_queue.hpp"

namespace msg::queue {

void InprocQueue::subscribe(const std::string& topic, Consumer consumer) {
    std::lock_guard lock(mutex_);
    consumers_.emplace(topic, std::move(consumer));
}

core::Task<void> InprocQueue::publish(const Event& event) {
    std::vector<Consumer> targets;
    {
        std::lock_guard lock(mutex_);
        auto [begin, end] = consumers_.equal_range(event.topic);
        for (auto it = begin; it != end; ++it) targets.push_back(it->second);
    }
    for (const auto& consumer : targets) consumer(event);
    co_return;
}

}  // namespace msg::queue
