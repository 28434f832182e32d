#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bus/bus.hpp"
#include "redis/address.hpp"

namespace msg::bus {

/// The bus between nodes over Redis pub/sub (REDIS_ADDR): the seed's channels, payloads as they
/// are (no envelope), so every node of a deployment meets on one Redis.
///
/// Two connections per node, each owned by a thread of its own (no Redis call ever runs on an
/// I/O thread): the subscriber, in a poll() loop, holds one SUBSCRIBE per channel that has
/// local listeners — taken with the first listener, dropped with the last, reconciled by the
/// thread so that any interleaving of subscribe and unsubscribe ends in exactly the wanted set
/// — and the publisher pipelines PUBLISH commands in batches, in publish() order (so a
/// channel's order holds).
///
/// While a channel's subscription is not confirmed (Redis down, just subscribed, reconnecting),
/// publish() also hands the payload to this node's listeners itself: local delivery never
/// waits for Redis. A node's own publish can then reach a listener twice (the hub drops seqs it
/// has delivered). When the subscriber reconnects it subscribes every wanted channel again and
/// runs each listener's `on_gap` once the channel is back (what other nodes published
/// meanwhile is gone: clients resync by seq from PostgreSQL). Publishes made while the
/// publisher is down are dropped and counted, never queued for later.
class RedisBus final : public Bus {
  public:
    struct Options {
        redis::Address address;
        std::chrono::milliseconds timeout{2000};  // connect, and each blocking read or write
        std::chrono::milliseconds reconnect_min{100};
        std::chrono::milliseconds reconnect_max{3000};
        std::chrono::milliseconds ping_every{2000};  // idle subscriber health check
        std::size_t max_queued = 100'000;            // publishes waiting; more are dropped
    };
    explicit RedisBus(Options options);
    ~RedisBus() override;
    RedisBus(const RedisBus&) = delete;
    RedisBus& operator=(const RedisBus&) = delete;

    using Bus::subscribe;
    void publish(const std::string& channel, Payload payload) override;
    Subscription subscribe(const std::string& channel, Handler handler, GapHandler on_gap) override;
    /// Both connections are up.
    bool connected() const override;

    struct Stats {
        std::uint64_t published = 0;   // PUBLISH commands Redis answered
        std::uint64_t dropped = 0;     // publishes Redis never saw (down, or queue full)
        std::uint64_t received = 0;    // messages read from the subscription
        std::uint64_t reconnects = 0;  // subscriber connections after the first
    };
    Stats stats() const;
    /// Channels with local listeners.
    std::size_t channels() const;

    struct Impl;

  private:
    std::shared_ptr<Impl> impl_;
    std::vector<std::thread> threads_;
};

}  // namespace msg::bus
