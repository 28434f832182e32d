#include "testing/co_test.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <thread>
#include <vector>

namespace msg::testing {

namespace asio = boost::asio;

namespace {
asio::awaitable<void> run_body(const std::function<core::Task<void>(CoContext&)>* body,
                               CoContext* ctx) {
    co_await (*body)(*ctx);
}
}  // namespace

void run_co(const std::function<core::Task<void>(CoContext&)>& body, int threads) {
    asio::io_context io;
    CoContext ctx{io};
    std::exception_ptr failure;
    bool finished = false;
    asio::co_spawn(io, run_body(&body, &ctx), [&](std::exception_ptr e) {
        failure = std::move(e);
        finished = true;
        io.stop();
    });
    std::vector<std::thread> extra;
    for (int i = 1; i < threads; ++i) extra.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& t : extra) t.join();
    if (failure) std::rethrow_exception(failure);
    if (!finished) FAIL() << "coroutine test did not finish";
}

}  // namespace msg::testing
