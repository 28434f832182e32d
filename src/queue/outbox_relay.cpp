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
    "SELECT id, tenant_id, topic, payload::text, attempts FROM outbox"
    " WHERE published_at IS NULL AND next_attempt_at <= now()"
    " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED";
constexpr std::string_view kMarkPublished =
    "UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[])";
constexpr std::string_view kMarkFailed =
    "UPDATE outbox SET attempts = attempts + 1,"
    " next_attempt_at = now() + $2::bigint * interval '1 millisecond' WHERE id = $1";

}  // namespace

OutboxRelay::OutboxRelay(pg::Pool& pool, EventQueue& queue, RelayOptions options)
    : pool_(pool), queue_(queue), options_(options) {}

core::Task<std::size_t> OutboxRelay::run_once() {
    auto conn = co_await pool_.acquire();
    co_await data::begin(*conn);
    auto rows = co_await conn->query(kClaim, options_.batch);
    std::vector<std::int64_t> published;
    for (int i = 0; i < rows.size(); ++i) {
        Event event{rows.int64(i, 0), rows.string(i, 1), rows.string(i, 2), rows.string(i, 3)};
        const std::int64_t attempts = rows.int64(i, 4);
        bool ok = true;
        try {
            co_await queue_.publish(event);
        } catch (const std::exception& e) {
            ok = false;
            core::logger("queue")->warn(
                "publish failed outbox_id={} topic={} attempts={} error=\"{}\"", event.id,
                event.topic, attempts + 1, e.what());
        }
        if (ok) {
            published.push_back(event.id);
        } else {
            const std::int64_t backoff =
                std::min<std::int64_t>(options_.retry_backoff.count() * (attempts + 1), 300'000);
            co_await conn->query(kMarkFailed, event.id, backoff);
        }
    }
    if (!published.empty()) co_await conn->query(kMarkPublished, published);
    co_await data::commit(*conn);
    co_return published.size();
}

core::Task<void> OutboxRelay::run(asio::io_context& io) {
    auto stopped = stopped_;
    asio::steady_timer timer(io);
    auto log = core::logger("queue");
    while (!*stopped) {
        std::size_t n = 0;
        try {
            n = co_await run_once();
        } catch (const std::exception& e) {
            log->warn("outbox relay pass failed error=\"{}\"", e.what());
        }
        if (n >= options_.batch) continue;  // more may be waiting
        timer.expires_after(options_.poll_interval);
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

void OutboxRelay::stop() { *stopped_ = true; }

}  // namespace msg::queue
