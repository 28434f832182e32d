#include "bus/redis_bus.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "core/log.hpp"
#include "redis/connection.hpp"

namespace msg::bus {

namespace {

struct Listener {
    Handler handler;
    GapHandler on_gap;
};
using Listeners = std::vector<std::shared_ptr<Listener>>;

constexpr std::size_t kBatch = 512;               // PUBLISH commands per pipelined write
constexpr std::size_t kChannelsPerCommand = 256;  // channels per SUBSCRIBE / UNSUBSCRIBE

}  // namespace

struct RedisBus::Impl {
    explicit Impl(Options o) : options(std::move(o)), wake_fd(eventfd(0, EFD_CLOEXEC)) {
        if (wake_fd < 0) throw std::runtime_error("redis bus: eventfd failed");
    }
    ~Impl() { ::close(wake_fd); }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    Options options;

    // Listeners by channel, and the channels whose subscription Redis confirmed on the live
    // subscriber connection (kept by the subscriber thread).
    mutable std::mutex mutex;
    std::uint64_t next_id = 0;
    std::unordered_map<std::string, std::map<std::uint64_t, std::shared_ptr<Listener>>> wanted;
    std::unordered_set<std::string> active;
    // Own publishes on a channel whose SUBSCRIBE is on its way: sent once Redis confirms it, so
    // they come back exactly once (sent before, they might or might not).
    std::unordered_map<std::string, std::vector<Payload>> held;

    std::mutex queue_mutex;
    std::condition_variable queue_cv;
    struct Queued {
        std::string channel;
        Payload payload;
        bool delivered_here = false;  // this node's listeners had it from publish() itself
    };
    std::deque<Queued> queue;

    std::mutex stop_mutex;
    std::condition_variable stop_cv;
    std::atomic<bool> stopping{false};
    std::atomic<bool> subscriber_up{false};
    std::atomic<bool> publisher_up{false};
    bool renew_publisher = false;  // under queue_mutex: the subscriber reconnected
    int wake_fd;

    std::atomic<std::uint64_t> published{0}, dropped{0}, received{0}, reconnects{0};
    // Held while a listener runs, on whichever thread: a subscription's cancel takes it after
    // removing the listener, so once cancel returns no call into the listener is still running
    // (its owner may be destroyed next). Recursive: a listener may publish or cancel.
    std::recursive_mutex dispatch_mutex;
    std::mutex up_mutex;
    std::condition_variable up_cv;  // the first connections (the constructor waits)

    void set_up(std::atomic<bool>& flag, bool up) {
        {
            std::lock_guard lock(up_mutex);
            flag = up;
        }
        up_cv.notify_all();
    }

    /// Queues for the publisher; called with `mutex` held (keeps a channel's order against a
    /// release of its held publishes). False when the queue is full.
    bool enqueue(const std::string& channel, Payload payload, bool delivered_here = false) {
        {
            std::lock_guard lock(queue_mutex);
            if (queue.size() >= options.max_queued) {
                ++dropped;
                return false;
            }
            queue.push_back({channel, std::move(payload), delivered_here});
        }
        queue_cv.notify_one();
        return true;
    }
    /// The held publishes of `channel` go to the publisher; called with `mutex` held.
    void release_held(const std::string& channel) {
        auto it = held.find(channel);
        if (it == held.end()) return;
        for (auto& p : it->second) enqueue(channel, std::move(p));
        held.erase(it);
    }
    void notify_gap(const std::string& channel) {
        std::lock_guard running(dispatch_mutex);
        for (const auto& l : listeners_of(channel)) {
            if (l->on_gap) l->on_gap();
        }
    }
    void deliver_here(const std::string& channel, const Payload& payload) {
        std::lock_guard running(dispatch_mutex);
        for (const auto& l : listeners_of(channel)) l->handler(payload);
    }

    void wake() const {
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
    }

    Listeners listeners_of(const std::string& channel) const {
        Listeners out;
        std::lock_guard lock(mutex);
        auto it = wanted.find(channel);
        if (it == wanted.end()) return out;
        out.reserve(it->second.size());
        for (const auto& [id, l] : it->second) out.push_back(l);
        return out;
    }

    /// Sleeps for the backoff unless the bus stops first; the next backoff.
    std::chrono::milliseconds back_off(std::chrono::milliseconds wait) {
        std::unique_lock lock(stop_mutex);
        stop_cv.wait_for(lock, wait, [this] { return stopping.load(); });
        return std::min(wait * 2, options.reconnect_max);
    }

    /// Reconnect state of one connection: the next backoff, and whether this outage was logged.
    struct Retry {
        std::chrono::milliseconds wait;
        bool warned = false;
    };
    /// A new connection, or null when Redis cannot be reached (logged once per outage; the
    /// caller backs off with back_off(retry.wait)).
    std::unique_ptr<redis::Connection> connect(std::string_view who, Retry& retry) {
        try {
            auto c = std::make_unique<redis::Connection>(options.address, options.timeout);
            retry = {options.reconnect_min, false};
            return c;
        } catch (const std::exception& e) {
            if (!retry.warned) {
                core::logger("bus")->warn("redis bus {} unavailable error=\"{}\"", who, e.what());
            }
            retry.warned = true;
            return nullptr;
        }
    }

    void subscriber_loop();
    void serve_subscriber(redis::Connection& c);
    void reconcile(redis::Connection& c, std::set<std::string>& subscribed);
    void on_reply(const redisReply& r, std::set<std::string>& gap_pending);
    void publisher_loop();
};

// ---- subscriber ----------------------------------------------------------------------------

void RedisBus::Impl::subscriber_loop() {
    auto log = core::logger("bus");
    Retry retry{options.reconnect_min};
    bool ever = false;
    while (!stopping) {
        auto c = connect("subscriber", retry);
        if (!c) {
            retry.wait = back_off(retry.wait);
            continue;
        }
        log->info("redis bus subscriber connected addr={}", options.address.describe());
        if (ever) {
            ++reconnects;
            std::lock_guard lock(queue_mutex);
            renew_publisher = true;
            queue_cv.notify_all();
        }
        try {
            serve_subscriber(*c);
        } catch (const std::exception& e) {
            if (!stopping) log->warn("redis bus subscriber lost error=\"{}\"", e.what());
        }
        std::vector<std::pair<std::string, Payload>> local;
        {
            // One step under the lock publish() decides in: from here on it delivers locally.
            std::lock_guard lock(mutex);
            subscriber_up = false;
            active.clear();  // local delivery until each channel is confirmed again
            for (auto& [channel, payloads] : held) {
                for (auto& p : payloads) {
                    local.emplace_back(channel, p);
                    enqueue(channel, std::move(p), true);
                }
            }
            held.clear();
        }
        for (const auto& [channel, p] : local) {
            deliver_here(channel, p);
        }
        ever = true;
    }
}

void RedisBus::Impl::reconcile(redis::Connection& c, std::set<std::string>& subscribed) {
    std::vector<std::string> add, remove;
    {
        std::lock_guard lock(mutex);
        for (const auto& [channel, listeners] : wanted) {
            if (!subscribed.contains(channel)) add.push_back(channel);
        }
        for (const auto& channel : subscribed) {
            if (!wanted.contains(channel)) {
                remove.push_back(channel);
                active.erase(channel);
                release_held(channel);
            }
        }
    }
    auto send = [&c](std::string_view verb, const std::vector<std::string>& channels) {
        for (std::size_t i = 0; i < channels.size(); i += kChannelsPerCommand) {
            std::vector<std::string_view> args{verb};
            for (std::size_t j = i; j < channels.size() && j < i + kChannelsPerCommand; ++j) {
                args.emplace_back(channels[j]);
            }
            c.append(args);
        }
    };
    send("SUBSCRIBE", add);
    send("UNSUBSCRIBE", remove);
    if (add.empty() && remove.empty()) return;
    c.flush();
    for (auto& ch : add) subscribed.insert(std::move(ch));
    for (const auto& ch : remove) subscribed.erase(ch);
}

void RedisBus::Impl::on_reply(const redisReply& r, std::set<std::string>& gap_pending) {
    if (r.type != REDIS_REPLY_ARRAY || r.elements < 2) return;
    const auto kind = redis::text(*r.element[0]);
    const std::string channel(redis::text(*r.element[1]));
    if (kind == "message" && r.elements >= 3) {
        ++received;
        // A channel unsubscribed meanwhile has no listeners left (its UNSUBSCRIBE is on its way).
        deliver_here(channel, std::make_shared<const std::string>(redis::text(*r.element[2])));
    } else if (kind == "subscribe") {
        {
            std::lock_guard lock(mutex);
            if (wanted.contains(channel)) active.insert(channel);
            release_held(channel);
        }
        if (gap_pending.erase(channel) > 0) notify_gap(channel);
    }
}

void RedisBus::Impl::serve_subscriber(redis::Connection& c) {
    std::set<std::string> subscribed;  // SUBSCRIBE sent on this connection
    std::set<std::string> gap_pending;
    {
        // Listeners that exist before this connection confirmed their channel may have missed
        // frames (a reconnect, or a start without Redis): they are told once it is confirmed.
        std::lock_guard lock(mutex);
        for (const auto& [channel, listeners] : wanted) gap_pending.insert(channel);
    }
    reconcile(c, subscribed);
    set_up(subscriber_up, true);
    auto last_heard = std::chrono::steady_clock::now();
    bool ping_out = false;
    while (!stopping) {
        pollfd fds[2] = {{c.fd(), POLLIN, 0}, {wake_fd, POLLIN, 0}};
        const int ready = ::poll(fds, 2, static_cast<int>(options.ping_every.count() / 2));
        if (ready < 0 && errno != EINTR) throw std::runtime_error("poll failed");
        if ((fds[1].revents & POLLIN) != 0) {
            std::uint64_t n = 0;
            [[maybe_unused]] auto got = ::read(wake_fd, &n, sizeof n);
            if (stopping) return;
            reconcile(c, subscribed);
        }
        const auto now = std::chrono::steady_clock::now();
        if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
            c.read_available();
            while (auto reply = c.next_buffered()) {
                if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
                    redis::text(*reply->element[0]) == "pong") {
                    ping_out = false;
                }
                on_reply(*reply, gap_pending);
            }
            last_heard = now;
        } else if (now - last_heard > options.ping_every) {
            if (ping_out) throw std::runtime_error("no answer to PING");
            c.append({"PING"});
            c.flush();
            ping_out = true;
            last_heard = now;
        }
    }
}

// ---- publisher -----------------------------------------------------------------------------

void RedisBus::Impl::publisher_loop() {
    auto log = core::logger("bus");
    Retry retry{options.reconnect_min};
    std::vector<Queued> batch;  // kept across a reconnect: a failed batch is tried once more
    bool retried = false;
    auto drop_all = [&] {
        std::set<std::string> lost;
        {
            std::lock_guard lock(queue_mutex);
            auto note = [&lost](const Queued& item) {
                if (!item.delivered_here) lost.insert(item.channel);
            };
            std::for_each(batch.begin(), batch.end(), note);
            std::for_each(queue.begin(), queue.end(), note);
            dropped += batch.size() + queue.size();
            queue.clear();
        }
        batch.clear();
        retried = false;
        // This node's listeners may have missed them too (they were to come back from Redis).
        for (const auto& channel : lost) notify_gap(channel);
    };
    while (!stopping) {
        auto c = connect("publisher", retry);
        if (!c) {
            drop_all();
            retry.wait = back_off(retry.wait);
            continue;
        }
        set_up(publisher_up, true);
        try {
            for (;;) {
                if (batch.empty()) {
                    std::unique_lock lock(queue_mutex);
                    const bool woke = queue_cv.wait_for(lock, options.ping_every, [this] {
                        return stopping || !queue.empty() || renew_publisher;
                    });
                    if (stopping && queue.empty()) break;
                    if (renew_publisher) {
                        // The subscriber found Redis gone and back: this connection is likely
                        // dead too, and an idle one would only find out on its next batch.
                        renew_publisher = false;
                        break;
                    }
                    if (!woke) {
                        lock.unlock();
                        c->command({"PING"});  // idle: find a dead connection before a batch does
                        continue;
                    }
                    while (!queue.empty() && batch.size() < kBatch) {
                        batch.push_back(std::move(queue.front()));
                        queue.pop_front();
                    }
                }
                for (const auto& item : batch) c->append({"PUBLISH", item.channel, *item.payload});
                c->flush();
                for (std::size_t i = 0; i < batch.size(); ++i) c->read();
                published += batch.size();
                batch.clear();
                retried = false;
            }
        } catch (const std::exception& e) {
            if (!stopping) log->warn("redis bus publisher lost error=\"{}\"", e.what());
        }
        set_up(publisher_up, false);
        if (stopping) break;
        // Once more on a fresh connection (a receiver drops a seq it has; a repeated typing
        // frame is harmless); a second failure drops them.
        if (!batch.empty() && retried) drop_all();
        retried = !batch.empty();
    }
}

// ---- RedisBus ------------------------------------------------------------------------------

RedisBus::RedisBus(Options options) : impl_(std::make_shared<Impl>(std::move(options))) {
    threads_.emplace_back([impl = impl_] { impl->subscriber_loop(); });
    threads_.emplace_back([impl = impl_] { impl->publisher_loop(); });
    // A node starts connected when Redis is there (its first sockets then get no spurious
    // resync), and degraded, not stuck, when it is not.
    std::unique_lock lock(impl_->up_mutex);
    impl_->up_cv.wait_for(lock, impl_->options.timeout,
                          [this] { return impl_->subscriber_up && impl_->publisher_up; });
}

RedisBus::~RedisBus() {
    impl_->stopping = true;
    impl_->wake();
    {
        std::lock_guard lock(impl_->queue_mutex);
        impl_->queue_cv.notify_all();
    }
    {
        std::lock_guard lock(impl_->stop_mutex);
        impl_->stop_cv.notify_all();
    }
    for (auto& t : threads_) t.join();
}

void RedisBus::publish(const std::string& channel, Payload payload) {
    bool local = false;
    {
        std::lock_guard lock(impl_->mutex);
        const bool wanted = impl_->wanted.contains(channel);
        const bool active = wanted && impl_->active.contains(channel);
        if (!impl_->publisher_up) {
            // Redis will not see it: this node's listeners get it here, other nodes never.
            local = wanted;
            ++impl_->dropped;
        } else if (wanted && !active && impl_->subscriber_up) {
            auto& held = impl_->held[channel];
            if (held.size() < impl_->options.max_queued) {
                held.push_back(std::move(payload));
            } else {
                ++impl_->dropped;
            }
            return;
        } else {
            local = wanted && !active;  // not subscribed: Redis would not hand it back
            if (!impl_->enqueue(channel, payload, local)) return;
        }
    }
    if (local) {
        impl_->deliver_here(channel, payload);
    }
}

Subscription RedisBus::subscribe(const std::string& channel, Handler handler, GapHandler on_gap) {
    std::uint64_t id = 0;
    bool first = false;
    {
        std::lock_guard lock(impl_->mutex);
        id = ++impl_->next_id;
        auto& listeners = impl_->wanted[channel];
        first = listeners.empty();
        listeners.emplace(
            id, std::make_shared<Listener>(Listener{std::move(handler), std::move(on_gap)}));
    }
    if (first) impl_->wake();
    std::weak_ptr<Impl> weak = impl_;
    return Subscription([weak, channel, id] {
        auto impl = weak.lock();
        if (!impl) return;
        bool last = false;
        {
            std::lock_guard lock(impl->mutex);
            auto it = impl->wanted.find(channel);
            if (it == impl->wanted.end()) return;
            it->second.erase(id);
            if (it->second.empty()) {
                impl->wanted.erase(it);
                impl->release_held(channel);  // other nodes may still listen
                last = true;
            }
        }
        if (last) impl->wake();
        std::lock_guard running(impl->dispatch_mutex);  // a call already under way ends first
    });
}

bool RedisBus::connected() const { return impl_->subscriber_up && impl_->publisher_up; }

RedisBus::Stats RedisBus::stats() const {
    return {impl_->published, impl_->dropped, impl_->received, impl_->reconnects};
}

std::size_t RedisBus::channels() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->wanted.size();
}

}  // namespace msg::bus
