#include "core/blocking.hpp"

#include <atomic>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>

namespace msg::core {

namespace asio = boost::asio;

struct BlockingPool::Impl {
    Impl(std::size_t threads, std::size_t max) : pool(threads), max_pending(max) {}
    asio::thread_pool pool;
    const std::size_t max_pending;
    std::atomic<std::size_t> pending{0};  // try_run jobs queued or running
};

BlockingPool::BlockingPool(std::size_t threads, std::size_t max_pending)
    : impl_(std::make_unique<Impl>(threads, max_pending)) {}

std::size_t BlockingPool::pending() const { return impl_->pending.load(); }

Task<bool> BlockingPool::try_run_erased(std::function<void()> work) {
    if (impl_->pending.fetch_add(1) >= impl_->max_pending) {
        impl_->pending.fetch_sub(1);
        co_return false;
    }
    struct Release {
        std::atomic<std::size_t>& pending;
        ~Release() { pending.fetch_sub(1); }
    } release{impl_->pending};
    co_await run_erased(std::move(work));
    co_return true;
}
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
