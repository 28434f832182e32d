#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/task.hpp"

namespace msg::queue {

/// A committed event from the outbox (ARCHITECTURE §8).
struct Event {
    std::int64_t id = 0;  // outbox id: consumers use it to stay idempotent
    std::string tenant_id;
    std::string topic;    // "message.created", …
    std::string payload;  // JSON
};

/// Durable-event seam: in-process dispatch (single node, the test fake) or AMQP (later).
/// publish() returning normally means the event is handed over; throwing means "retry later".
class EventQueue {
  public:
    virtual ~EventQueue() = default;
    virtual core::Task<void> publish(const Event& event) = 0;
};

/// Calls the consumers of an event's topic in the relay's coroutine. A consumer that throws
/// makes the relay retry the event later (at-least-once), so consumers must be idempotent.
class InprocQueue final : public EventQueue {
  public:
    using Consumer = std::function<void(const Event&)>;
    /// A consumer that does I/O (the vector indexer); awaited in turn.
    using AsyncConsumer = std::function<core::Task<void>(const Event&)>;
    void subscribe(const std::string& topic, Consumer consumer);
    void subscribe_async(const std::string& topic, AsyncConsumer consumer);
    core::Task<void> publish(const Event& event) override;

  private:
    std::mutex mutex_;
    std::multimap<std::string, Consumer> consumers_;
    std::multimap<std::string, AsyncConsumer> async_consumers_;
};

}  // namespace msg::queue
