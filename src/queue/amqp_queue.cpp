#include "queue/amqp_queue.hpp"

#include <spdlog/logger.h>

#include <algorithm>
#include <stdexcept>

#include "amqp/connection.hpp"
#include "core/log.hpp"

namespace msg::queue {

AmqpQueue::AmqpQueue(Options options) : options_(std::move(options)) {}

AmqpQueue::~AmqpQueue() {
    thread_.stop();  // no publish runs any more: the connection may go on this thread
    conn_.reset();
}

core::Task<void> AmqpQueue::publish(const Event& event) {
    std::vector<Event> one{event};
    auto results = co_await publish_batch(one);
    if (!results.at(0).empty()) throw std::runtime_error(results[0]);
}

core::Task<std::vector<std::string>> AmqpQueue::publish_batch(const std::vector<Event>& events) {
    std::vector<std::string> results;
    co_await thread_.run([this, &events, &results] { results = publish_blocking(events); });
    co_return results;
}

amqp::Connection* AmqpQueue::connection(std::string& why) {
    if (conn_) return conn_.get();
    const auto now = std::chrono::steady_clock::now();
    if (now < retry_at_) {
        why = "broker unavailable: " + last_error_;
        return nullptr;
    }
    try {
        auto c = std::make_unique<amqp::Connection>(options_.url, options_.timeout);
        c->confirm_select();
        c->declare_exchange(options_.exchange, "topic");  // durable (the seed's arguments)
        conn_ = std::move(c);
        backoff_ = std::chrono::milliseconds(0);
        connected_ = true;
        core::logger("queue")->info("amqp connected broker={} exchange={}", options_.url.describe(),
                                    options_.exchange);
        return conn_.get();
    } catch (const std::exception& e) {
        backoff_ =
            std::min(options_.max_backoff, std::max(std::chrono::milliseconds(250), backoff_ * 2));
        retry_at_ = now + backoff_;
        if (last_error_ != e.what()) {
            core::logger("queue")->warn("amqp connect failed error=\"{}\" retry_in_ms={}", e.what(),
                                        backoff_.count());
        }
        last_error_ = e.what();
        why = last_error_;
        return nullptr;
    }
}

void AmqpQueue::drop(const std::string& why) {
    core::logger("queue")->warn("amqp connection dropped error=\"{}\"", why);
    last_error_ = why;
    conn_.reset();
    connected_ = false;
}

std::vector<std::string> AmqpQueue::publish_blocking(const std::vector<Event>& events) {
    std::vector<std::string> results(events.size());
    if (events.empty()) return results;
    std::string why;
    amqp::Connection* c = connection(why);
    if (c == nullptr) {
        std::fill(results.begin(), results.end(), why);
        return results;
    }
    std::vector<bool> answered(events.size(), false);
    std::size_t pending = events.size();
    try {
        const std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count();
        std::uint64_t first = 0;
        for (const auto& event : events) {
            amqp::Properties p;
            p.message_id = event_id(event);
            p.type = event.topic;
            p.timestamp = now_s;
            const auto tag = c->publish(options_.exchange, routing_key(event), envelope(event), p);
            if (first == 0) first = tag;
        }
        // Tags are consecutive from `first`; an ack or nack may answer many at once.
        const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
        while (pending > 0) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            auto confirm = c->next_confirm(std::max(left, std::chrono::milliseconds(0)));
            if (!confirm) break;
            const std::uint64_t lo = confirm->multiple ? first : confirm->tag;
            for (std::uint64_t tag = std::max(lo, first); tag <= confirm->tag; ++tag) {
                const std::size_t i = tag - first;
                if (i >= events.size() || answered[i]) continue;
                answered[i] = true;
                --pending;
                if (!confirm->ack) results[i] = "nacked by the broker";
            }
        }
        if (pending > 0) {
            // Unknown whether the broker has them: the connection's confirm state is lost with
            // it, and the retry may publish a second copy (consumers dedupe on the event id).
            drop("no publisher confirm within " + std::to_string(options_.timeout.count()) + " ms");
            why = last_error_;
        }
    } catch (const std::exception& e) {
        drop(e.what());
        why = e.what();
    }
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (!answered[i]) results[i] = why;
    }
    return results;
}

}  // namespace msg::queue
