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

/// Once-per-id work for a consumer group on top of at-least-once delivery: the event's id is
/// recorded in `processed_events` in a transaction that stays open while the work runs and
/// commits after it. A redelivered event whose id is there is skipped; two deliveries of one
/// event at once (two nodes) serialise on the row, and the second skips. The work does not run
/// in that transaction (it gets no connection of it), so this is "the work ran to its end once"
/// — not atomic with the work's own writes: work must still be idempotent for a crash between
/// its end and the commit (the vector index upserts by message id; an in-memory index whose
/// process dies before its flush relies on its catch-up from PostgreSQL, which re-reads recent
/// messages only). A consumer needs two pool connections (this one and the work's). Records
/// older than `retention` (7 days) are pruned once a minute of applying, up to 100,000.
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
