#pragma once

// The Bus contract, one typed test suite for every implementation (STYLE rule 20). An
// implementation's test file defines a factory and instantiates the suite:
//
//     struct InprocFactory { static std::unique_ptr<Bus> make() { ... } };
//     INSTANTIATE_TYPED_TEST_SUITE_P(Inproc, BusContract, ::testing::Types<InprocFactory>);
//
// Delivery may be asynchronous (Redis), so tests wait on a condition with a deadline.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "bus/bus.hpp"

namespace msg::bus {

class Inbox {
  public:
    Handler handler() {
        return [this](const Payload& p) {
            std::lock_guard lock(mutex_);
            items_.push_back(p);
            cv_.notify_all();
        };
    }
    /// Waits up to 5 s for `n` payloads.
    bool wait_for(std::size_t n) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return items_.size() >= n; });
    }
    std::vector<std::string> texts() {
        std::lock_guard lock(mutex_);
        std::vector<std::string> out;
        for (const auto& p : items_) out.push_back(*p);
        return out;
    }

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<Payload> items_;
};

template <class Factory>
class BusContract : public ::testing::Test {};
TYPED_TEST_SUITE_P(BusContract);

TYPED_TEST_P(BusContract, DeliversToSubscribersOfTheChannelOnly) {
    auto bus = TypeParam::make();
    Inbox a1, a2, b;
    auto s1 = bus->subscribe("tenant:t:room:1", a1.handler());
    auto s2 = bus->subscribe("tenant:t:room:1", a2.handler());
    auto s3 = bus->subscribe("tenant:t:room:2", b.handler());
    bus->publish("tenant:t:room:1", std::make_shared<const std::string>("hello"));
    bus->publish("tenant:t:room:2", std::make_shared<const std::string>("other"));
    ASSERT_TRUE(a1.wait_for(1));
    ASSERT_TRUE(a2.wait_for(1));
    ASSERT_TRUE(b.wait_for(1));
    EXPECT_EQ(a1.texts(), std::vector<std::string>{"hello"});
    EXPECT_EQ(a2.texts(), std::vector<std::string>{"hello"});
    EXPECT_EQ(b.texts(), std::vector<std::string>{"other"});
}

TYPED_TEST_P(BusContract, KeepsPublishOrderPerChannel) {
    auto bus = TypeParam::make();
    Inbox in;
    auto s = bus->subscribe("c", in.handler());
    for (int i = 0; i < 100; ++i) {
        bus->publish("c", std::make_shared<const std::string>(std::to_string(i)));
    }
    ASSERT_TRUE(in.wait_for(100));
    auto got = in.texts();
    for (int i = 0; i < 100; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], std::to_string(i));
}

TYPED_TEST_P(BusContract, UnsubscribeStopsDelivery) {
    auto bus = TypeParam::make();
    Inbox gone, stays;
    auto s1 = bus->subscribe("c", gone.handler());
    auto s2 = bus->subscribe("c", stays.handler());
    s1.reset();
    bus->publish("c", std::make_shared<const std::string>("x"));
    ASSERT_TRUE(stays.wait_for(1));
    EXPECT_TRUE(gone.texts().empty());
}

TYPED_TEST_P(BusContract, ConcurrentPublishersLoseNothing) {
    auto bus = TypeParam::make();
    Inbox in;
    auto s = bus->subscribe("c", in.handler());
    std::vector<std::thread> threads;
    threads.reserve(4);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&bus, t] {
            for (int i = 0; i < 250; ++i) {
                bus->publish("c", std::make_shared<const std::string>(std::to_string(t)));
            }
        });
    }
    for (auto& t : threads) t.join();
    ASSERT_TRUE(in.wait_for(1000));
    EXPECT_EQ(in.texts().size(), 1000u);
}

REGISTER_TYPED_TEST_SUITE_P(BusContract, DeliversToSubscribersOfTheChannelOnly,
                            KeepsPublishOrderPerChannel, UnsubscribeStopsDelivery,
                            ConcurrentPublishersLoseNothing);

}  // namespace msg::bus
