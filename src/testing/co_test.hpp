#pragma once

// Coroutine tests: CO_TEST(Suite, Name) { co_await ...; } runs the body to completion on a
// fresh io_context (STYLE rule 21). gtest's ASSERT_* return from the function, which a
// coroutine cannot do: use EXPECT_* and CO_ASSERT(cond), which records a failure and co_returns.

#include <gtest/gtest.h>

#include <functional>

#include "core/task.hpp"

namespace boost::asio {
class io_context;
}

namespace msg::testing {

struct CoContext {
    boost::asio::io_context& io;
};

/// Runs `body` on a new io_context (with `threads` threads) and rethrows what it threw.
void run_co(const std::function<core::Task<void>(CoContext&)>& body, int threads = 1);

}  // namespace msg::testing

#define CO_TEST(suite, name)                                                            \
    static ::msg::core::Task<void> suite##_##name##_co(::msg::testing::CoContext& ctx); \
    TEST(suite, name) { ::msg::testing::run_co(&suite##_##name##_co); }                 \
    static ::msg::core::Task<void> suite##_##name##_co(                                 \
        [[maybe_unused]] ::msg::testing::CoContext& ctx)

#define CO_ASSERT(cond)                              \
    if (!(cond)) {                                   \
        ADD_FAILURE() << "CO_ASSERT failed: " #cond; \
        co_return;                                   \
    }
