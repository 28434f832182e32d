#include "bus/inproc_bus.hpp"

#include "bus/bus_contract.hpp"

namespace msg::bus {
namespace {

struct InprocFactory {
    static std::unique_ptr<Bus> make() { return std::make_unique<InprocBus>(); }
};
INSTANTIATE_TYPED_TEST_SUITE_P(Inproc, BusContract, ::testing::Types<InprocFactory>);

TEST(InprocBus, ForgetsEmptyChannels) {
    InprocBus bus;
    {
        auto s = bus.subscribe("c", [](const Payload&) {});
        EXPECT_EQ(bus.channels(), 1u);
    }
    EXPECT_EQ(bus.channels(), 0u);
}

TEST(InprocBus, SubscriptionMayOutliveTheBus) {
    // The cancel of a subscription that outlives its bus must not touch the freed bus (ASan
    // reports it if it does) and must still end the subscription.
    int delivered = 0;
    Subscription s;
    {
        InprocBus bus;
        s = bus.subscribe("c", [&delivered](const Payload&) { ++delivered; });
        bus.publish("c", std::make_shared<const std::string>("x"));
        EXPECT_EQ(delivered, 1);
    }
    ASSERT_TRUE(s);
    s.reset();
    EXPECT_FALSE(s);
    EXPECT_EQ(delivered, 1);
}

}  // namespace
}  // namespace msg::bus
