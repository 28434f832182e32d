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
    Subscription s;
    {
        InprocBus bus;
        s = bus.subscribe("c", [](const Payload&) {});
    }
    s.reset();  // no crash: the bus state is gone
    SUCCEED();
}

}  // namespace
}  // namespace msg::bus
