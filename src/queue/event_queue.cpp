#include "queue/event_queue.hpp"

#include <exception>

#include "core/log.hpp"

namespace msg::queue {

std::string event_id(const Event& event) {
    return event.tenant_id + "/" + std::to_string(event.id);
}

std::string routing_key(const Event& event) {
    return event.tenant_id.empty() ? event.topic : event.tenant_id + "." + event.topic;
}

std::string envelope(const Event& event) {
    // The payload is JSON from the database (jsonb::text): embedded as it is.
    std::string out;
    out.reserve(160 + event.payload.size());
    out += R"({"id":")";
    out += core::json_escape(event_id(event));
    out += R"(","type":")";
    out += core::json_escape(event.topic);
    out += R"(","version":)";
    out += std::to_string(kEnvelopeVersion);
    out += R"(,"tenant_id":")";
    out += core::json_escape(event.tenant_id);
    out += R"(","occurred_at":")";
    out += core::json_escape(event.occurred_at);
    out += R"(","payload":)";
    out += event.payload.empty() ? std::string("null") : event.payload;
    out += '}';
    return out;
}

core::Task<std::vector<std::string>> EventQueue::publish_batch(const std::vector<Event>& events) {
    std::vector<std::string> results;
    results.reserve(events.size());
    for (const auto& event : events) {
        std::string error;
        try {
            co_await publish(event);
        } catch (const std::exception& e) {
            error = e.what();
            if (error.empty()) error = "publish failed";
        }
        results.push_back(std::move(error));
    }
    co_return results;
}

core::Task<void> TeeQueue::publish(const Event& event) {
    co_await first_.publish(event);
    co_await second_.publish(event);
}

core::Task<std::vector<std::string>> TeeQueue::publish_batch(const std::vector<Event>& events) {
    auto results = co_await first_.publish_batch(events);
    std::vector<Event> taken;
    std::vector<std::size_t> where;
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (results[i].empty()) {
            taken.push_back(events[i]);
            where.push_back(i);
        }
    }
    if (taken.empty()) co_return results;
    auto second = co_await second_.publish_batch(taken);
    for (std::size_t k = 0; k < where.size(); ++k) results[where[k]] = std::move(second[k]);
    co_return results;
}

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
