#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "amqp/url.hpp"
#include "core/event.hpp"
#include "core/task.hpp"
#include "queue/event_queue.hpp"

namespace boost::asio {
class io_context;
}
namespace msg::amqp {
class Connection;
struct Message;
}  // namespace msg::amqp

namespace msg::queue {

/// One consumer group reading events from the broker (docs/events.md "Consumers"): a durable
/// queue `<prefix>.<group>` bound to `chat.events` with the group's routing keys, manual acks
/// after the handler finished, at most `prefetch` deliveries unacknowledged. A handler that
/// throws sends the event through a delay queue (`<prefix>.<group>.retry.<delay>ms`: a fixed
/// TTL each, then dead-lettered back to `<prefix>.<group>`) with a growing delay; after
/// `max_attempts` it goes to the dead-letter queue `<prefix>.dlq` with the reason in its headers
/// (`x-reason`, `x-group`, `x-attempts`, `x-routing-key`). A copy is confirmed by the broker before
/// the delivery is acked, so a failure loses nothing. Handlers run on the event loop (`io`); the
/// broker is talked to from a thread of its own. Delivery is at least once: handlers must be
/// idempotent on the event id (a redelivery after a crash, a retry whose ack was lost).
class AmqpConsumer {
  public:
    using Handler = std::function<core::Task<void>(const Event&)>;

    struct Options {
        amqp::Url url;
        std::string exchange = "chat.events";
        /// AMQP_QUEUE_PREFIX: queues are <prefix>.<group>, <prefix>.<group>.retry.<n> and
        /// <prefix>.dlq (several deployments on one broker: a prefix or a vhost each).
        std::string prefix = "msg";
        std::string group;                  // the queue is <prefix>.<group>
        std::vector<std::string> bindings;  // routing keys, e.g. "*.message.created"
        std::uint16_t prefetch = 16;        // AMQP_PREFETCH
        int max_attempts = 5;               // AMQP_MAX_ATTEMPTS: then msg.dlq
        /// The delay before attempt n+1 is retry_delays[min(n, size) - 1].
        std::vector<std::chrono::milliseconds> retry_delays{
            std::chrono::seconds(1), std::chrono::seconds(5), std::chrono::seconds(30),
            std::chrono::minutes(2)};
        std::chrono::milliseconds timeout{5000};
        std::chrono::milliseconds reconnect{1000};  // after a failure (doubling to 30 s)
    };

    AmqpConsumer(Options options, boost::asio::io_context& io, Handler handler);
    ~AmqpConsumer();
    AmqpConsumer(const AmqpConsumer&) = delete;
    AmqpConsumer& operator=(const AmqpConsumer&) = delete;

    void start();
    /// Takes no further deliveries (the one in hand is finished); returns at once.
    void request_stop() { stopping_ = true; }
    /// request_stop() and joins the thread. Not from a thread that runs `io` while a handler
    /// may be running there; after the event loops ended a delivery in hand is left unacked
    /// (the broker delivers it again).
    void stop();

    const std::string& group() const { return options_.group; }
    std::string queue_name() const { return options_.prefix + "." + options_.group; }
    std::string retry_queue(int n) const;
    std::string dead_letters() const { return options_.prefix + ".dlq"; }

    std::uint64_t handled() const { return handled_.load(); }  // acked after success
    std::uint64_t retried() const { return retried_.load(); }  // sent to a delay queue
    std::uint64_t dead() const { return dead_.load(); }        // sent to msg.dlq
    /// Deliveries the broker marked redelivered: another consumer (or an earlier session of
    /// this one) held them unacked when its channel closed.
    std::uint64_t redelivered() const { return redelivered_.load(); }
    bool connected() const { return connected_.load(); }
    /// Set once the group's queues were declared and bound: events published after it reach
    /// the group (the relay waits for it, so a first start loses nothing).
    const core::Event& declared() const { return declared_; }

  private:
    void run();
    void session();  // one connection's life: declare, consume, handle; throws when it ends
    void declare(amqp::Connection& c);
    /// Runs the handler on the event loop and waits: "" on success, else the error; nullopt
    /// when the event loop ended before it finished.
    std::optional<std::string> handle(const Event& event);
    void handle_delivery(amqp::Connection& consumer, amqp::Connection& publisher,
                         const amqp::Message& m);

    Options options_;
    boost::asio::io_context& io_;
    Handler handler_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> connected_{false};
    std::atomic<std::uint64_t> handled_{0}, retried_{0}, dead_{0}, redelivered_{0};
    core::Event declared_;
    std::thread thread_;
};

/// Parses a broker message's envelope back into an Event (nullopt: not a version-1 envelope).
std::optional<Event> event_from_envelope(std::string_view body);

/// The dead-letter queue, for `msg_server dlq list|replay` (blocking: a command, not a server).
struct DeadLetter {
    std::string event_id, type, group, reason, routing_key;
    int attempts = 0;
};
/// Every dead letter of <prefix>.dlq (they stay in the queue: taken without ack, then given
/// back).
std::vector<DeadLetter> list_dead_letters(const amqp::Url& url, const std::string& prefix,
                                          std::size_t limit);
/// Moves up to `limit` dead letters (of `group`, or every group when empty) back to their
/// group's queue <prefix>.<group> with the attempt count reset; each is confirmed there before
/// it leaves the dead-letter queue. Returns how many moved.
std::size_t replay_dead_letters(const amqp::Url& url, const std::string& prefix,
                                const std::string& group, std::size_t limit);

}  // namespace msg::queue
