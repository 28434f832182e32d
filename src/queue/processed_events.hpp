#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "core/task.hpp"
#include "queue/amqp_consumer.hpp"
#include "queue/event_queue.hpp"

namespace msg::pg {
class Pool;
}

namespace msg::queue {

/// Exactly-once effects for a consumer group on top of at-least-once delivery: the event's id
/// is recorded in `processed_events` in a transaction that stays open while the work runs and
/// commits after it. A redelivered event whose id is there is skipped; two deliveries of one
/// event at once (two workers) serialise on the row, and the second skips. Work that writes
/// PostgreSQL through the same database is applied once; other work (an index upsert) must
/// be idempotent for the rare crash between its end and the commit. Records older than
/// `retention` (7 days: a redelivery comes within minutes) are pruned every ten minutes of
/// applying, a batch at a time.
class ProcessedEvents {
  public:
    ProcessedEvents(pg::Pool& pool, std::string consumer,
                    std::chrono::seconds retention = std::chrono::hours(24 * 7))
        : pool_(pool), consumer_(std::move(consumer)), retention_(retention) {}

    /// Runs `work` unless this consumer applied the event already; true when it ran. A throw
    /// from `work` rolls the record back (the event is not marked) and propagates.
    core::Task<bool> apply(const Event& event, const AmqpConsumer::Handler& work);
    /// Deletes up to `limit` records older than `age`; returns how many.
    core::Task<std::size_t> prune(std::chrono::seconds age, std::size_t limit);

    std::uint64_t applied() const { return applied_.load(); }
    std::uint64_t duplicates() const { return duplicates_.load(); }

  private:
    core::Task<bool> run_recorded(const Event& event, const AmqpConsumer::Handler& work);

    pg::Pool& pool_;
    std::string consumer_;
    std::chrono::seconds retention_;
    std::atomic<std::int64_t> next_prune_{0};  // steady clock, seconds
    std::atomic<std::uint64_t> applied_{0}, duplicates_{0};
};

/// A consumer handler that applies through `processed` (a named coroutine for std::bind).
core::Task<void> apply_once(ProcessedEvents& processed, AmqpConsumer::Handler work,
                            const Event& event);

}  // namespace msg::queue
