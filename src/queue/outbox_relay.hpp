#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <utility>

#include "core/task.hpp"
#include "queue/event_queue.hpp"

namespace boost::asio {
class io_context;
}
namespace msg::pg {
class Pool;
}

namespace msg::queue {

struct RelayOptions {
    std::size_t batch = 1000;  // OUTBOX_RELAY_BATCH: a broker confirms a batch at once
    std::chrono::milliseconds poll_interval{200};
    std::chrono::milliseconds retry_backoff{1000};  // × attempts, capped at 5 minutes
    /// Rows this relay published longer ago than this are deleted (OUTBOX_RETENTION_SECONDS),
    /// every prune_interval, prune_batch rows a statement: the table stays small at any volume.
    std::chrono::seconds retention{3600};
    std::chrono::seconds prune_interval{60};
    std::size_t prune_batch = 5000;
};

/// Publishes committed outbox rows to the event queue and marks them published
/// (at-least-once: a crash between publish and mark publishes again). Rows are claimed with
/// FOR UPDATE SKIP LOCKED, so several relays (nodes) share the work without double-claiming.
/// A failed publish counts an attempt and schedules a retry with a growing backoff.
class OutboxRelay {
  public:
    OutboxRelay(pg::Pool& pool, EventQueue& queue, RelayOptions options);

    /// One pass: claim up to `batch` due rows, publish, mark. Returns how many were published.
    core::Task<std::size_t> run_once();
    /// Deletes up to prune_batch published rows with ids up to `up_to`; returns how many.
    core::Task<std::size_t> prune_once(std::int64_t up_to);
    /// Loops until stop(), pruning every prune_interval; an infrastructure error is logged and
    /// the loop keeps going.
    core::Task<void> run(boost::asio::io_context& io);
    void stop();

  private:
    /// The highest id this relay published longer ago than the retention (0: none yet). The
    /// relay remembers when it published what, so pruning walks the primary key up to a known
    /// id instead of scanning the table for old rows. After a restart it starts afresh.
    std::int64_t prune_point();

    pg::Pool& pool_;
    EventQueue& queue_;
    RelayOptions options_;
    std::shared_ptr<bool> stopped_ = std::make_shared<bool>(false);
    std::deque<std::pair<std::chrono::steady_clock::time_point, std::int64_t>> marks_;
    std::int64_t prune_up_to_ = 0;
};

}  // namespace msg::queue
