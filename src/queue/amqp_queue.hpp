#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "amqp/url.hpp"
#include "core/blocking.hpp"
#include "queue/event_queue.hpp"

namespace msg::amqp {
class Connection;
}

namespace msg::queue {

/// Publishes events to an AMQP 0-9-1 broker (LavinMQ, RabbitMQ): the durable topic exchange
/// `chat.events`, routing key `<tenant>.<event>`, persistent messages carrying the envelope
/// (docs/events.md), with publisher confirms — an event counts as handed over only once the
/// broker confirmed it (ack); a nack, a lost connection or no confirm within the timeout leaves
/// it to be retried. The connection lives on a thread of its own (rabbitmq-c blocks); on a
/// failure it is dropped and made again on the next publish after a growing backoff, with the
/// exchange declared again. Every batch is bounded: a watchdog thread shuts the socket down
/// when a batch outlives twice the timeout (a broker that stops reading — a memory or disk
/// alarm — would otherwise block a publish forever), and stop() cuts one in progress.
class AmqpQueue final : public EventQueue {
  public:
    struct Options {
        amqp::Url url;
        std::string exchange = "chat.events";
        std::chrono::milliseconds timeout{5000};     // connect, each RPC, a batch's confirms
        std::chrono::milliseconds min_backoff{250};  // after a failure, before reconnecting
        std::chrono::milliseconds max_backoff{30'000};
    };

    explicit AmqpQueue(Options options);
    ~AmqpQueue() override;

    core::Task<void> publish(const Event& event) override;  // throws when not confirmed
    core::Task<std::vector<std::string>> publish_batch(const std::vector<Event>& events) override;

    /// Whether the last attempt left a connection open (for metrics).
    bool connected() const { return connected_.load(); }
    /// Cuts a batch in progress (its events are retried by the relay), refuses new ones, and
    /// joins the thread. Before the event loops stop: nothing waits on the broker after it.
    void stop();

  private:
    std::vector<std::string> publish_blocking(const std::vector<Event>& events);
    /// Null when connecting failed or is not due yet; the reason is in `why`.
    amqp::Connection* connection(std::string& why);
    void drop(const std::string& why);

    struct Watchdog;

    Options options_;
    // The connection and the backoff state belong to the one thread of `thread_`.
    std::unique_ptr<amqp::Connection> conn_;
    std::chrono::steady_clock::time_point retry_at_{};
    std::chrono::milliseconds backoff_{0};
    std::string last_error_;
    std::atomic<bool> connected_{false};
    std::atomic<bool> stopping_{false};
    std::unique_ptr<Watchdog> watchdog_;
    core::BlockingPool thread_{1};  // last: stopped (joined) before the connection goes
};

}  // namespace msg::queue
