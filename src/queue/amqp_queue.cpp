#include "queue/amqp_queue.hpp"

#include <spdlog/logger.h>

#include <sys/socket.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "amqp/connection.hpp"
#include "core/log.hpp"

namespace msg::queue {

/// Shuts the armed socket down when its deadline passes (or at once on cut()). The socket is
/// only touched under the mutex and only while armed, so a socket closed after disarm() —
/// whose number the kernel may hand out again — is never shut down by mistake.
struct AmqpQueue::Watchdog {
    Watchdog() : thread([this] { loop(); }) {}
    ~Watchdog() {
        {
            std::lock_guard lock(mutex);
            done = true;
        }
        wake.notify_all();
        thread.join();
    }

    void arm(int socket, std::chrono::steady_clock::time_point at) {
        {
            std::lock_guard lock(mutex);
            fd = socket;
            deadline = at;
            fired = false;
        }
        wake.notify_all();
    }
    /// Returns whether it fired while armed.
    bool disarm() {
        std::lock_guard lock(mutex);
        fd = -1;
        return fired;
    }
    void cut() {
        std::lock_guard lock(mutex);
        if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
        fired = fd >= 0 || fired;
    }

  private:
    void loop() {
        std::unique_lock lock(mutex);
        while (!done) {
            if (fd < 0) {
                wake.wait(lock);
            } else if (wake.wait_until(lock, deadline) == std::cv_status::timeout && fd >= 0 &&
                       std::chrono::steady_clock::now() >= deadline) {
                ::shutdown(fd, SHUT_RDWR);
                fired = true;
                fd = -1;
            }
        }
    }

    std::mutex mutex;
    std::condition_variable wake;
    int fd = -1;
    std::chrono::steady_clock::time_point deadline;
    bool fired = false;
    bool done = false;
    std::thread thread;  // last: starts once the rest is initialised
};

AmqpQueue::AmqpQueue(Options options)
    : options_(std::move(options)), watchdog_(std::make_unique<Watchdog>()) {}

AmqpQueue::~AmqpQueue() {
    stop();
    conn_.reset();  // no publish runs any more: the connection may go on this thread
}

void AmqpQueue::stop() {
    stopping_ = true;
    watchdog_->cut();
    thread_.stop();
}

core::Task<void> AmqpQueue::publish(const Event& event) {
    std::vector<Event> one{event};
    auto results = co_await publish_batch(one);
    if (!results.at(0).empty()) throw std::runtime_error(results[0]);
}

core::Task<std::vector<std::string>> AmqpQueue::publish_batch(const std::vector<Event>& events) {
    std::vector<std::string> results(events.size(), "shutting down");
    if (stopping_) co_return results;
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
    // A broker that accepts connections and then stalls must not get a reconnect every pass.
    backoff_ = std::min(options_.max_backoff, std::max(options_.min_backoff, backoff_ * 2));
    retry_at_ = std::chrono::steady_clock::now() + backoff_;
    core::logger("queue")->warn("amqp connection dropped error=\"{}\" retry_in_ms={}", why,
                                backoff_.count());
    last_error_ = why;
    conn_->abandon();  // no polite close: the peer may be what stopped answering
    conn_.reset();
    connected_ = false;
}

std::vector<std::string> AmqpQueue::publish_blocking(const std::vector<Event>& events) {
    std::vector<std::string> results(events.size());
    if (events.empty()) return results;
    if (stopping_) {
        std::fill(results.begin(), results.end(), "shutting down");
        return results;
    }
    std::string why;
    amqp::Connection* c = connection(why);
    if (c == nullptr) {
        std::fill(results.begin(), results.end(), why);
        return results;
    }
    std::vector<bool> answered(events.size(), false);
    std::size_t pending = events.size();
    // Publishing and confirming the batch may take two timeouts at most, then the socket goes.
    watchdog_->arm(c->fd(), std::chrono::steady_clock::now() + 2 * options_.timeout);
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
            const std::uint64_t hi =
                std::min<std::uint64_t>(confirm->tag, first + events.size() - 1);
            for (std::uint64_t tag = std::max(lo, first); tag <= hi; ++tag) {
                const std::size_t i = tag - first;
                if (answered[i]) continue;
                answered[i] = true;
                --pending;
                if (!confirm->ack) results[i] = "nacked by the broker";
            }
        }
        if (watchdog_->disarm()) {
            // Cut just as the batch ended: what was confirmed stands; the socket is gone.
            drop("publishing stalled past the deadline or stopping");
            why = last_error_;
        } else if (pending > 0) {
            // Unknown whether the broker has them: the connection's confirm state is lost with
            // it, and the retry may publish a second copy (consumers dedupe on the event id).
            drop("no publisher confirm within " + std::to_string(options_.timeout.count()) + " ms");
            why = last_error_;
        }
    } catch (const std::exception& e) {
        const bool cut = watchdog_->disarm();
        why = cut ? std::string("publishing stalled past the deadline or stopping: ") + e.what()
                  : std::string(e.what());
        drop(why);
    }
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (!answered[i]) results[i] = why;
    }
    return results;
}

}  // namespace msg::queue
