// The failover bookkeeping of the remote executor (seed-contract §10) and the op-error wire.
// The HTTP side is tested over real servers in app/dbman_contract_pgtest.cpp and the
// black-box dbman tests.

#include <gtest/gtest.h>

#include "data/dbman_client.hpp"

namespace msg::data {
namespace {

using namespace std::chrono_literals;

TEST(Endpoints, StartsEachCallAtTheNextEndpointInTurn) {
    core::ManualClock clock;
    Endpoints e({"http://a", "http://b", "http://c"}, 3, 10s, clock);
    EXPECT_EQ(e.order(), (std::vector<std::size_t>{0, 1, 2}));
    EXPECT_EQ(e.order(), (std::vector<std::size_t>{1, 2, 0}));
    EXPECT_EQ(e.order(), (std::vector<std::size_t>{2, 0, 1}));
    EXPECT_EQ(e.order(), (std::vector<std::size_t>{0, 1, 2}));
}

TEST(Endpoints, CoolsDownAtTheThresholdAndIsTriedAgainAfterIt) {
    core::ManualClock clock;
    Endpoints e({"http://a", "http://b"}, 2, 3s, clock);
    e.failed(0);
    EXPECT_EQ(e.cooling(), 0u);  // one failure of two
    e.failed(0);
    EXPECT_EQ(e.cooling(), 1u);
    EXPECT_EQ(e.order(), (std::vector<std::size_t>{1}));
    EXPECT_EQ(e.order(), (std::vector<std::size_t>{1}));
    clock.advance(3s);
    EXPECT_EQ(e.order(), (std::vector<std::size_t>{1}));  // not after the cooldown yet
    clock.advance(1ms);
    EXPECT_EQ(e.cooling(), 0u);
    EXPECT_EQ(e.order(), (std::vector<std::size_t>{1, 0}));
    // The count starts again from zero after a cooldown.
    e.failed(0);
    EXPECT_EQ(e.cooling(), 0u);
}

TEST(Endpoints, OnlyASuccessResetsTheFailureCount) {
    core::ManualClock clock;
    Endpoints e({"http://a"}, 3, 10s, clock);
    e.failed(0);
    e.failed(0);
    e.succeeded(0);
    e.failed(0);
    e.failed(0);
    EXPECT_EQ(e.cooling(), 0u);
    e.failed(0);
    EXPECT_EQ(e.cooling(), 1u);
    EXPECT_TRUE(e.order().empty());  // every endpoint cooling: the call fails at once
}

TEST(Endpoints, NormalizesTheSeedWay) {
    EXPECT_EQ(normalize_endpoints({" http://a:1/ ", "", "http://b:2//", "http://a:1"}),
              (std::vector<std::string>{"http://a:1", "http://b:2"}));
}

TEST(OpErrors, TravelWithTheirCodeAndRetryAfter) {
    core::Error e{core::ErrorCode::too_many_requests, "slow down", 7};
    auto back = decode_error(encode_error(e));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->code, core::ErrorCode::too_many_requests);
    EXPECT_EQ(back->message, "slow down");
    EXPECT_EQ(back->retry_after_seconds, 7);
    EXPECT_EQ(status_of(e.code), 429u);
    const auto denied = decode_error(encode_error(core::forbidden("room access denied")));
    ASSERT_TRUE(denied);
    EXPECT_EQ(denied->code, core::ErrorCode::forbidden);
    // The pipeline's own refusals carry no code: not an operation's answer.
    EXPECT_FALSE(decode_error(R"({"error":"invalid token"})"));
    EXPECT_FALSE(decode_error("not json"));
    EXPECT_FALSE(decode_error(R"({"error":"x","code":"no_such_code"})"));
}

TEST(Registry, RefusesANameTwice) {
    Registry r;
    OpEntry e;
    e.name = "x/y";
    r.add(e);
    EXPECT_THROW(r.add(e), std::logic_error);
    EXPECT_NE(r.find("x/y"), nullptr);
    EXPECT_EQ(r.find("x/z"), nullptr);
}

}  // namespace
}  // namespace msg::data
