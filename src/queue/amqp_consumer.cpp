#include "queue/amqp_consumer.hpp"

#include <spdlog/logger.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <future>
#include <stdexcept>

#include "amqp/connection.hpp"
#include "core/log.hpp"

namespace msg::queue {

namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::milliseconds;

namespace {

constexpr std::size_t kMaxReason = 512;

core::Task<void> run_handler(AmqpConsumer::Handler handler, Event event) {
    co_await handler(event);
}

std::string describe(const std::exception_ptr& e) {
    if (!e) return {};
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what()[0] != '\0' ? x.what() : "handler failed";
    } catch (...) {
        return "handler failed";
    }
}

int header_int(const amqp::Properties& p, const std::string& key) {
    auto it = p.headers.find(key);
    if (it == p.headers.end()) return 0;
    int v = 0;
    auto [ptr, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
    return ec == std::errc() ? v : 0;
}

std::string header(const amqp::Properties& p, const std::string& key) {
    auto it = p.headers.find(key);
    return it == p.headers.end() ? std::string() : it->second;
}

/// Publishes on a connection in confirm mode and waits for this message's confirm. Mandatory:
/// a copy no queue takes (the queue was deleted) is returned by the broker and fails here, so
/// the original is never acked for a copy that went nowhere.
void publish_confirmed(amqp::Connection& publisher, const std::string& queue,
                       const std::string& body, const amqp::Properties& p, milliseconds timeout) {
    publisher.take_returned();
    const auto tag = publisher.publish("", queue, body, p, /*mandatory=*/true);  // by name
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
        auto confirm = publisher.next_confirm(std::max(left, milliseconds(0)));
        if (!confirm) throw std::runtime_error("no confirm for a copy to " + queue);
        if (confirm->tag == tag || (confirm->multiple && confirm->tag > tag)) {
            if (!confirm->ack) throw std::runtime_error("the broker refused a copy to " + queue);
            if (publisher.take_returned()) throw std::runtime_error("no queue " + queue);
            return;
        }
    }
}

}  // namespace

std::optional<Event> event_from_envelope(std::string_view body) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.as_object();
    const auto* version = o.if_contains("version");
    const auto* id = o.if_contains("id");
    const auto* type = o.if_contains("type");
    const auto* tenant = o.if_contains("tenant_id");
    const auto* occurred = o.if_contains("occurred_at");
    const auto* payload = o.if_contains("payload");
    if (!version || !version->is_int64() || version->as_int64() != kEnvelopeVersion || !id ||
        !id->is_string() || !type || !type->is_string() || !tenant || !tenant->is_string() ||
        !payload) {
        return std::nullopt;
    }
    // id = <tenant>/<outbox id>
    const std::string_view sid = id->as_string();
    const auto slash = sid.rfind('/');
    if (slash == std::string_view::npos) return std::nullopt;
    std::int64_t outbox = 0;
    auto [ptr, perr] = std::from_chars(sid.data() + slash + 1, sid.data() + sid.size(), outbox);
    if (perr != std::errc() || ptr != sid.data() + sid.size()) return std::nullopt;
    if (sid.substr(0, slash) != std::string_view(tenant->as_string())) return std::nullopt;
    Event e;
    e.id = outbox;
    e.tenant_id = std::string(tenant->as_string());
    e.topic = std::string(type->as_string());
    e.payload = json::serialize(*payload);
    if (occurred && occurred->is_string()) e.occurred_at = std::string(occurred->as_string());
    return e;
}

AmqpConsumer::AmqpConsumer(Options options, asio::io_context& io, Handler handler)
    : options_(std::move(options)), io_(io), handler_(std::move(handler)) {
    if (options_.group.empty() || options_.bindings.empty() || options_.retry_delays.empty() ||
        options_.max_attempts < 1) {
        throw std::invalid_argument("AmqpConsumer needs a group, bindings, delays and attempts");
    }
}

AmqpConsumer::~AmqpConsumer() { stop(); }

std::string AmqpConsumer::retry_queue(int n) const {
    // Named by its delay: a queue's TTL is fixed at declaration, so other delays are other
    // queues (the old ones still drain back into the group's queue).
    const auto& delays = options_.retry_delays;
    const auto i = std::min<std::size_t>(static_cast<std::size_t>(std::max(n, 1)), delays.size());
    return queue_name() + ".retry." + std::to_string(delays[i - 1].count()) + "ms";
}

void AmqpConsumer::start() {
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void AmqpConsumer::stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
}

void AmqpConsumer::run() {
    auto log = core::logger("queue");
    milliseconds backoff = options_.reconnect;
    while (!stopping_) {
        try {
            session();
        } catch (const std::exception& e) {
            connected_ = false;
            if (stopping_) break;
            // A 406 is a declaration the broker refuses (a queue declared before with other
            // arguments): it repeats until someone acts, so it is an error, not a blip.
            const bool refused = std::string_view(e.what()).find(" 406 ") != std::string_view::npos;
            log->log(refused ? spdlog::level::err : spdlog::level::warn,
                     "consumer connection lost group={} error=\"{}\" retry_in_ms={}",
                     options_.group, e.what(), backoff.count());
            const auto until = std::chrono::steady_clock::now() + backoff;
            while (!stopping_ && std::chrono::steady_clock::now() < until) {
                std::this_thread::sleep_for(milliseconds(50));
            }
            backoff = std::min<milliseconds>(std::chrono::seconds(10), backoff * 2);
            continue;
        }
        backoff = options_.reconnect;
    }
    connected_ = false;
}

void AmqpConsumer::declare(amqp::Connection& c) {
    c.declare_exchange(options_.exchange, "topic");
    c.declare_queue(queue_name(), amqp::QueueOptions{});
    for (const auto& key : options_.bindings) c.bind_queue(queue_name(), options_.exchange, key);
    for (std::size_t n = 1; n <= options_.retry_delays.size(); ++n) {
        amqp::QueueOptions delay;
        delay.message_ttl_ms = options_.retry_delays[n - 1].count();
        delay.dead_letter = true;  // expired → the default exchange → msg.<group>
        delay.dead_letter_routing_key = queue_name();
        c.declare_queue(retry_queue(static_cast<int>(n)), delay);
    }
    c.declare_queue(dead_letters(), amqp::QueueOptions{});
}

void AmqpConsumer::session() {
    // Two connections: deliveries on one, confirmed copies (retries, dead letters) on the
    // other, so confirms never interleave with deliveries on one channel.
    amqp::Connection consumer(options_.url, options_.timeout);
    amqp::Connection publisher(options_.url, options_.timeout);
    publisher.confirm_select();
    declare(consumer);
    consumer.qos(options_.prefetch);
    consumer.consume(queue_name());
    connected_ = true;
    declared_.set();
    core::logger("queue")->info("consumer started group={} queue={} prefetch={}", options_.group,
                                queue_name(), options_.prefetch);
    while (!stopping_) {
        auto m = consumer.next_delivery(milliseconds(200));
        if (m) handle_delivery(consumer, publisher, *m);
    }
}

std::optional<std::string> AmqpConsumer::handle(const Event& event) {
    auto done = std::make_shared<std::promise<std::string>>();
    auto result = done->get_future();
    asio::co_spawn(io_, run_handler(handler_, event),
                   [done](std::exception_ptr e) { done->set_value(describe(e)); });
    while (result.wait_for(milliseconds(100)) != std::future_status::ready) {
        // The event loop is gone (shutdown): nothing will answer.
        if (io_.stopped()) return std::nullopt;
    }
    return result.get();
}

void AmqpConsumer::handle_delivery(amqp::Connection& consumer, amqp::Connection& publisher,
                                   const amqp::Message& m) {
    if (m.redelivered) ++redelivered_;
    auto event = event_from_envelope(m.body);
    std::string error = "not a version 1 envelope";
    if (event) {
        auto outcome = handle(*event);
        if (!outcome) {
            // The event loop ended under the handler: left unacked (delivered again), and no
            // further deliveries are taken.
            stopping_ = true;
            return;
        }
        error = std::move(*outcome);
    }
    if (error.empty()) {
        consumer.ack(m.delivery_tag);
        ++handled_;
        return;
    }
    const int attempts = header_int(m.properties, "x-attempts") + 1;
    const bool dead = !event || attempts >= options_.max_attempts;
    amqp::Properties copy = m.properties;
    copy.persistent = true;
    copy.headers["x-attempts"] = std::to_string(attempts);
    copy.headers["x-reason"] = error.substr(0, kMaxReason);
    copy.headers["x-group"] = options_.group;
    // The first routing key stays (a retried copy comes back through the default exchange).
    if (header(m.properties, "x-routing-key").empty()) {
        copy.headers["x-routing-key"] = m.routing_key;
    }
    const std::size_t step =
        std::min<std::size_t>(static_cast<std::size_t>(attempts), options_.retry_delays.size());
    const std::string target = dead ? dead_letters() : retry_queue(static_cast<int>(step));
    // Confirmed before the ack: if anything fails here the delivery stays unacked and comes
    // back (at least once), never lost.
    publish_confirmed(publisher, target, m.body, copy, options_.timeout);
    consumer.ack(m.delivery_tag);
    if (dead) {
        ++dead_;
        core::logger("queue")->error(
            "event dead-lettered group={} event={} attempts={} error=\"{}\" queue={}",
            options_.group, event ? event_id(*event) : std::string("(not an envelope)"), attempts,
            copy.headers["x-reason"], target);
    } else {
        ++retried_;
        core::logger("queue")->warn(
            "event failed group={} event={} attempts={} error=\"{}\" retry_in_ms={}",
            options_.group, event_id(*event), attempts, copy.headers["x-reason"],
            options_.retry_delays[step - 1].count());
    }
}

std::vector<DeadLetter> list_dead_letters(const amqp::Url& url, const std::string& prefix,
                                          std::size_t limit) {
    const std::string queue = prefix + ".dlq";
    amqp::Connection c(url, milliseconds(5000));
    c.declare_queue(queue, amqp::QueueOptions{});
    std::vector<DeadLetter> out;
    // Taken without acks: closing the connection gives them all back, in order.
    while (out.size() < limit) {
        auto m = c.get(queue, /*auto_ack=*/false);
        if (!m) break;
        DeadLetter d;
        d.event_id = m->properties.message_id;
        d.type = m->properties.type;
        d.group = header(m->properties, "x-group");
        d.reason = header(m->properties, "x-reason");
        d.routing_key = header(m->properties, "x-routing-key");
        d.attempts = header_int(m->properties, "x-attempts");
        out.push_back(std::move(d));
    }
    return out;
}

std::size_t replay_dead_letters(const amqp::Url& url, const std::string& prefix,
                                const std::string& group, std::size_t limit) {
    const std::string queue = prefix + ".dlq";
    amqp::Connection c(url, milliseconds(5000));
    amqp::Connection publisher(url, milliseconds(5000));
    publisher.confirm_select();
    c.declare_queue(queue, amqp::QueueOptions{});
    // At most the letters there now: one that fails again at once comes back to the tail and
    // must not be replayed again by this run.
    const std::size_t there = c.queue_length(queue);
    std::size_t moved = 0, seen = 0;
    // Letters of other groups are left unacked, so the loop never meets them twice; the
    // connection's close gives them back.
    while (moved < limit && seen < there) {
        auto m = c.get(queue, /*auto_ack=*/false);
        if (!m) break;
        ++seen;
        const std::string g = header(m->properties, "x-group");
        if (g.empty() || (!group.empty() && g != group)) continue;
        amqp::Properties p = m->properties;
        p.headers["x-attempts"] = "0";
        p.headers["x-replayed-reason"] = header(m->properties, "x-reason");
        p.headers.erase("x-reason");
        publish_confirmed(publisher, prefix + "." + g, m->body, p, milliseconds(5000));
        c.ack(m->delivery_tag);
        ++moved;
    }
    return moved;
}

}  // namespace msg::queue
