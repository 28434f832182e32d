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
    std::string topic;        // "message.created", …
    std::string payload;      // JSON
    std::string occurred_at;  // RFC 3339 UTC: when the change committed
};

/// The envelope external consumers read (docs/events.md), version 1:
/// `{"id","type","version","tenant_id","occurred_at","payload"}` with `payload` the event's JSON
/// as stored. `id` is event_id(): unique per event, the same on every redelivery.
inline constexpr int kEnvelopeVersion = 1;
std::string envelope(const Event& event);
/// `<tenant_id>/<outbox id>`.
std::string event_id(const Event& event);
/// `<tenant_id>.<topic>` (the seed's routing key; just the topic for an empty tenant).
std::string routing_key(const Event& event);

/// Durable-event seam: in-process dispatch (single node, the test fake) or an AMQP broker.
/// publish() returning normally means the event is handed over; throwing means "retry later".
class EventQueue {
  public:
    virtual ~EventQueue() = default;
    virtual core::Task<void> publish(const Event& event) = 0;
    /// Hands over a batch: per event, "" when it was taken, else why not (retry it later).
    /// The default publishes one by one; a broker overrides it to wait for all confirms at once.
    virtual core::Task<std::vector<std::string>> publish_batch(const std::vector<Event>& events);
};

/// Publishes to `first` (the broker), then hands what it took to `second` (in-process
/// consumers). An event either refuses is retried whole, so `first` may see it again: at least
/// once, as everywhere.
class TeeQueue final : public EventQueue {
  public:
    TeeQueue(EventQueue& first, EventQueue& second) : first_(first), second_(second) {}
    core::Task<void> publish(const Event& event) override;
    core::Task<std::vector<std::string>> publish_batch(const std::vector<Event>& events) override;

  private:
    EventQueue& first_;
    EventQueue& second_;
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
