#include "queue/processed_events.hpp"

#include <exception>

#include <spdlog/logger.h>

#include "core/log.hpp"
#include "data/executor.hpp"
#include "storage/pg/pool.hpp"

namespace msg::queue {

namespace {
constexpr std::string_view kRecord =
    "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2)"
    " ON CONFLICT DO NOTHING RETURNING 1";
constexpr std::string_view kPrune =
    "DELETE FROM processed_events WHERE ctid IN (SELECT ctid FROM processed_events"
    " WHERE processed_at < now() - $1::bigint * interval '1 second' LIMIT $2)";
}  // namespace

core::Task<bool> ProcessedEvents::apply(const Event& event, const AmqpConsumer::Handler& work) {
    const bool ran = co_await run_recorded(event, work);
    if (!ran) co_return false;
    // Pruning on a connection of its own, after the event's went back to the pool.
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
    std::int64_t due = next_prune_.load();
    if (now >= due && next_prune_.compare_exchange_strong(due, now + 60)) {
        try {
            // Up to 100,000 a minute (~1,600 events/s of steady state), 5,000 a statement.
            for (int round = 0; round < 20; ++round) {
                const std::size_t pruned = co_await prune(retention_, 5000);
                if (pruned < 5000) break;
            }
        } catch (const std::exception& e) {
            core::logger("queue")->warn("processed events prune failed error=\"{}\"", e.what());
        }
    }
    co_return true;
}

core::Task<bool> ProcessedEvents::run_recorded(const Event& event,
                                               const AmqpConsumer::Handler& work) {
    auto conn = co_await pool_.acquire();
    co_await data::begin(*conn);
    // A second delivery of the same event (another node) waits on the row at most this long,
    // then fails as an attempt, instead of holding a connection for the statement timeout.
    co_await conn->query("SET LOCAL lock_timeout = '5s'");
    const std::string id = event_id(event);
    auto fresh = co_await conn->query(kRecord, consumer_, id);
    if (fresh.empty()) {
        co_await data::commit(*conn);
        ++duplicates_;
        co_return false;
    }
    // The work runs while the record is uncommitted: a failure rolls it back, so the event is
    // not marked and its retry runs the work again. (No co_await inside a handler.)
    std::exception_ptr failed;
    try {
        co_await work(event);
    } catch (...) {
        failed = std::current_exception();
    }
    if (failed) {
        co_await data::rollback(*conn);
        std::rethrow_exception(failed);
    }
    co_await data::commit(*conn);
    ++applied_;
    co_return true;
}

core::Task<std::size_t> ProcessedEvents::prune(std::chrono::seconds age, std::size_t limit) {
    auto conn = co_await pool_.acquire();
    const std::int64_t seconds = age.count();
    const std::int64_t n = static_cast<std::int64_t>(limit);
    auto rows = co_await conn->query(kPrune, seconds, n);
    co_return static_cast<std::size_t>(rows.affected());
}

core::Task<void> apply_once(ProcessedEvents& processed, AmqpConsumer::Handler work,
                            const Event& event) {
    co_await processed.apply(event, work);
}

}  // namespace msg::queue
