#include "core/blocking.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>

namespace msg::core {

namespace asio = boost::asio;

struct BlockingPool::Impl {
    explicit Impl(std::size_t threads) : pool(threads) {}
    asio::thread_pool pool;
};

BlockingPool::BlockingPool(std::size_t threads) : impl_(std::make_unique<Impl>(threads)) {}
BlockingPool::~BlockingPool() { stop(); }

void BlockingPool::stop() { impl_->pool.join(); }

Task<void> BlockingPool::run_erased(std::function<void()> work) {
    std::exception_ptr failure;
    auto initiate = [this, &work, &failure](auto handler) {
        asio::post(impl_->pool, [h = std::move(handler), &work, &failure]() mutable {
            try {
                work();
            } catch (...) {
                failure = std::current_exception();
            }
            auto home = asio::get_associated_executor(h);
            asio::post(home, std::move(h));
        });
    };
    co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(initiate,
                                                                          asio::use_awaitable);
    if (failure) std::rethrow_exception(failure);
}

}  // namespace msg::core
