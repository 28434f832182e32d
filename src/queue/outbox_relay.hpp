#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

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
    std::size_t batch = 100;
    std::chrono::milliseconds poll_interval{200};
    std::chrono::milliseconds retry_backoff{1000};  // × attempts, capped at 5 minutes
    /// Published rows older than this are deleted (OUTBOX_RETENTION_SECONDS), every
    /// prune_interval, prune_batch rows a statement: the table stays small at any volume.
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
    /// Deletes up to prune_batch published rows older than the retention; returns how many.
    core::Task<std::size_t> prune_once();
    /// Loops until stop(), pruning every prune_interval; an infrastructure error is logged and
    /// the loop keeps going.
    core::Task<void> run(boost::asio::io_context& io);
    void stop();

  private:
    pg::Pool& pool_;
    EventQueue& queue_;
    RelayOptions options_;
    std::shared_ptr<bool> stopped_ = std::make_shared<bool>(false);
};

}  // namespace msg::queue
