#include "queue/outbox_relay.hpp"

#include <spdlog/logger.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "core/log.hpp"
#include "data/executor.hpp"
#include "storage/pg/pool.hpp"

namespace msg::queue {

namespace asio = boost::asio;

namespace {
constexpr std::string_view kClaim =
    "SELECT id, tenant_id, topic, payload::text, attempts,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM outbox"
    " WHERE published_at IS NULL AND next_attempt_at <= now()"
    " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED";
constexpr std::string_view kMarkPublished =
    "UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[])";
// Backoff: retry_backoff × attempts, at most 5 minutes.
constexpr std::string_view kMarkFailed =
    "UPDATE outbox SET attempts = attempts + 1,"
    " next_attempt_at = now() + LEAST($2::bigint * (attempts + 1), 300000)"
    "   * interval '1 millisecond'"
    " WHERE id = ANY($1::bigint[])";
// Along the primary key up to a known id, so the scan is bounded by what is old, not by the
// table (a scan by published_at would read every row kept for the retention each time).
constexpr std::string_view kPrune =
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
    " WHERE id <= $1 AND published_at IS NOT NULL ORDER BY id LIMIT $2)";

}  // namespace

OutboxRelay::OutboxRelay(pg::Pool& pool, EventQueue& queue, RelayOptions options)
    : pool_(pool), queue_(queue), options_(options) {}

core::Task<std::size_t> OutboxRelay::run_once() {
    auto conn = co_await pool_.acquire();
    co_await data::begin(*conn);
    auto rows = co_await conn->query(kClaim, options_.batch);
    std::vector<Event> events;
    std::vector<std::int64_t> attempts;
    events.reserve(static_cast<std::size_t>(rows.size()));
    for (int i = 0; i < rows.size(); ++i) {
        events.push_back(Event{rows.int64(i, 0), rows.string(i, 1), rows.string(i, 2),
                               rows.string(i, 3), rows.string(i, 5)});
        attempts.push_back(rows.int64(i, 4));
    }
    std::vector<std::string> results;
    if (!events.empty()) {
        try {
            results = co_await queue_.publish_batch(events);
        } catch (const std::exception& e) {
            results.assign(events.size(), e.what());
        }
        results.resize(events.size(), "no result");
    }
    std::vector<std::int64_t> published, failed;
    std::size_t first_failed = 0;
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (results[i].empty()) {
            published.push_back(events[i].id);
        } else {
            if (failed.empty()) first_failed = i;
            failed.push_back(events[i].id);
        }
    }
    if (!failed.empty()) {
        // One line per pass, not per event: an outage would otherwise log every row each time.
        const Event& e = events[first_failed];
        core::logger("queue")->warn(
            "publish failed events={} first_outbox_id={} topic={} attempts={} error=\"{}\"",
            failed.size(), e.id, e.topic, attempts[first_failed] + 1, results[first_failed]);
        const std::int64_t backoff_ms = options_.retry_backoff.count();
        co_await conn->query(kMarkFailed, failed, backoff_ms);
    }
    if (!published.empty()) co_await conn->query(kMarkPublished, published);
    co_await data::commit(*conn);
    if (!published.empty()) {
        // Remember (when, highest id published): pruning later deletes up to the id of a mark
        // older than the retention. At most one mark a second.
        const auto now = std::chrono::steady_clock::now();
        const std::int64_t top = *std::max_element(published.begin(), published.end());
        if (!marks_.empty() && now - marks_.back().first < std::chrono::seconds(1)) {
            marks_.back().second = std::max(marks_.back().second, top);
        } else {
            marks_.emplace_back(now, top);
        }
    }
    co_return published.size();
}

core::Task<std::size_t> OutboxRelay::prune_once(std::int64_t up_to) {
    auto conn = co_await pool_.acquire();
    const std::int64_t limit = static_cast<std::int64_t>(options_.prune_batch);
    auto rows = co_await conn->query(kPrune, up_to, limit);
    co_return static_cast<std::size_t>(rows.affected());
}

std::int64_t OutboxRelay::prune_point() {
    const auto old = std::chrono::steady_clock::now() - options_.retention;
    while (!marks_.empty() && marks_.front().first <= old) {
        prune_up_to_ = std::max(prune_up_to_, marks_.front().second);
        marks_.pop_front();
    }
    return prune_up_to_;
}

core::Task<void> OutboxRelay::run(asio::io_context& io) {
    auto stopped = stopped_;
    asio::steady_timer timer(io);
    auto log = core::logger("queue");
    auto next_prune = std::chrono::steady_clock::now() + options_.prune_interval;
    while (!*stopped) {
        std::size_t n = 0;
        try {
            n = co_await run_once();
        } catch (const std::exception& e) {
            log->warn("outbox relay pass failed error=\"{}\"", e.what());
        }
        if (std::chrono::steady_clock::now() >= next_prune) {
            next_prune = std::chrono::steady_clock::now() + options_.prune_interval;
            try {
                // A few batches a round at most: pruning must not starve publishing.
                const std::int64_t up_to = prune_point();
                for (int round = 0; up_to > 0 && round < 20; ++round) {
                    const std::size_t pruned = co_await prune_once(up_to);
                    if (pruned < options_.prune_batch) break;
                }
            } catch (const std::exception& e) {
                log->warn("outbox prune failed error=\"{}\"", e.what());
            }
        }
        if (n >= options_.batch) continue;  // more may be waiting
        timer.expires_after(options_.poll_interval);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

void OutboxRelay::stop() { *stopped_ = true; }

}  // namespace msg::queue
