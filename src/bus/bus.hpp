#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace msg::bus {

/// A serialized frame, shared (never copied) by every recipient (STYLE rule 9).
using Payload = std::shared_ptr<const std::string>;
using Handler = std::function<void(const Payload&)>;
/// Told that messages on a channel may have been lost (the bus reconnected and subscribed
/// again): subscribers tell their clients to resync by seq.
using GapHandler = std::function<void()>;

/// Ends its subscription when destroyed (or on reset()).
class Subscription {
  public:
    Subscription() = default;
    explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
    Subscription(Subscription&& o) noexcept : cancel_(std::move(o.cancel_)) { o.cancel_ = nullptr; }
    Subscription& operator=(Subscription&& o) noexcept {
        if (this != &o) {
            reset();
            cancel_ = std::move(o.cancel_);
            o.cancel_ = nullptr;
        }
        return *this;
    }
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    ~Subscription() { reset(); }

    void reset() {
        if (cancel_) {
            auto cancel = std::move(cancel_);
            cancel_ = nullptr;
            cancel();
        }
    }
    explicit operator bool() const { return static_cast<bool>(cancel_); }

  private:
    std::function<void()> cancel_;
};

/// Realtime pub/sub between nodes (ARCHITECTURE §7): channel names as the seed
/// (`tenant:<t>:room:<r>`, `session:events`). Best effort, at most once: the durable copy of
/// everything published is in PostgreSQL, and clients fill gaps by seq. Two implementations:
/// in-process (single node, and the test fake) and Redis (many nodes).
class Bus {
  public:
    virtual ~Bus() = default;
    /// Hands `payload` to every subscriber of `channel`, on this node and every other. Never
    /// blocks: a bus that talks to a server queues it.
    virtual void publish(const std::string& channel, Payload payload) = 0;
    /// `handler` runs on a bus thread and must not block: queue into a socket's writer.
    /// `on_gap` (may be empty) runs, on a bus thread, after messages of the channel may have
    /// been missed.
    virtual Subscription subscribe(const std::string& channel, Handler handler,
                                   GapHandler on_gap) = 0;
    Subscription subscribe(const std::string& channel, Handler handler) {
        return subscribe(channel, std::move(handler), nullptr);
    }
    /// False while the bus cannot reach other nodes (delivery is then local only).
    virtual bool connected() const { return true; }
};

/// The room channel name of the seed.
inline std::string room_channel(const std::string& tenant_id, std::int64_t room_id) {
    return "tenant:" + tenant_id + ":room:" + std::to_string(room_id);
}

}  // namespace msg::bus
