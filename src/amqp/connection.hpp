#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "amqp/url.hpp"

struct amqp_connection_state_t_;

namespace msg::amqp {

/// What a published message carries besides its body (AMQP basic properties).
struct Properties {
    std::string message_id;
    std::string type;
    std::string content_type = "application/json";
    bool persistent = true;      // delivery mode 2: written to disk by a durable queue
    std::int64_t timestamp = 0;  // unix seconds; 0: none
    std::map<std::string, std::string> headers;
};

/// A queue's declaration (`x-` arguments set only when given).
struct QueueOptions {
    bool durable = true;
    bool exclusive = false;
    bool auto_delete = false;
    std::int64_t message_ttl_ms = 0;  // x-message-ttl; 0: none
    /// x-dead-letter-exchange ("" is the default exchange) and routing key; used when
    /// `dead_letter` is set (a delay queue sends expired messages back this way).
    bool dead_letter = false;
    std::string dead_letter_exchange;
    std::string dead_letter_routing_key;
};

/// A message taken from a queue (basic.get) or delivered to a consumer (basic.consume).
struct Message {
    std::uint64_t delivery_tag = 0;
    std::string routing_key;
    std::string exchange;
    std::string body;
    Properties properties;
    bool redelivered = false;
};

/// A broker's answer to published messages in confirm mode: `tag` (and with `multiple`, every
/// earlier tag not yet answered) was taken (`ack`) or refused (nack).
struct Confirm {
    std::uint64_t tag = 0;
    bool multiple = false;
    bool ack = false;
};

/// One blocking AMQP 0-9-1 connection with one channel (rabbitmq-c), owned by one dedicated
/// thread (never an I/O thread: STYLE rule 11). Connects, logs in and opens channel 1 in the
/// constructor; any failure, there or later (a socket error, a timeout, a channel or connection
/// closed by the broker), throws std::runtime_error and leaves the connection unusable — the
/// owner makes a new one. Errors name the broker by Url::describe(), never the password.
class Connection {
  public:
    /// `timeout` bounds the connect, the login and every RPC and wait.
    Connection(const Url& url, std::chrono::milliseconds timeout);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Publisher confirms on the channel: from now on publish() returns delivery tags 1, 2, …
    void confirm_select();
    void declare_exchange(std::string_view name, std::string_view type = "topic");
    void declare_queue(std::string_view name, bool durable = true, bool exclusive = false,
                       bool auto_delete = false);
    void declare_queue(std::string_view name, const QueueOptions& options);
    void bind_queue(std::string_view queue, std::string_view exchange, std::string_view key);
    void delete_queue(std::string_view queue);
    void delete_exchange(std::string_view exchange);
    /// How many messages are ready in a queue (a passive declare).
    std::uint32_t queue_length(std::string_view queue);

    /// Publishes; in confirm mode returns the message's delivery tag (else 0).
    /// `mandatory`: the broker returns a message no queue takes (basic.return, before its
    /// confirm); take_returned() says whether that happened since the last call.
    std::uint64_t publish(std::string_view exchange, std::string_view routing_key,
                          std::string_view body, const Properties& properties,
                          bool mandatory = false);
    /// The next confirm, or nullopt when none came within `wait`.
    std::optional<Confirm> next_confirm(std::chrono::milliseconds wait);
    bool take_returned() { return std::exchange(returned_, false); }

    /// The socket, for a watchdog on another thread: shutting it down makes a blocked call
    /// (a publish into a full socket buffer, which rabbitmq-c does not time out) fail at once.
    int fd() const;
    /// Gives up on the connection: it is destroyed without the polite close (a peer that
    /// stopped answering would make the close wait for the timeout twice).
    void abandon() { broken_ = true; }

    /// One message from a queue (basic.get), or nullopt when it is empty.
    std::optional<Message> get(std::string_view queue, bool auto_ack);
    void ack(std::uint64_t delivery_tag);
    /// Gives a delivery back: requeued, or dropped (dead-lettered where the queue says so).
    void reject(std::uint64_t delivery_tag, bool requeue);

    /// At most `prefetch` unacknowledged deliveries to this channel's consumers (basic.qos).
    void qos(std::uint16_t prefetch);
    /// Starts consuming `queue` with manual acks (basic.consume); deliveries come from
    /// next_delivery(). Do not mix with confirm mode on the same connection.
    void consume(std::string_view queue);
    /// The next delivery, or nullopt when none came within `wait`.
    std::optional<Message> next_delivery(std::chrono::milliseconds wait);

  private:
    /// Marks the connection broken (no polite close) and throws.
    [[noreturn]] void fail(std::string_view what);
    void check_rpc(std::string_view what);

    amqp_connection_state_t_* state_ = nullptr;
    std::string where_;
    std::chrono::milliseconds timeout_;
    bool broken_ = false;
    bool confirming_ = false;
    bool returned_ = false;
    std::uint64_t next_tag_ = 1;
};

}  // namespace msg::amqp
