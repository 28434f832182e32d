#include "core/event.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <mutex>
#include <optional>

namespace msg::core {

namespace asio = boost::asio;

struct Event::State {
    std::mutex mutex;
    bool set = false;
    /// The suspended waiter's completion (posts to its executor); empty when nobody waits.
    std::function<void(bool)> resume;
    std::optional<asio::steady_timer> timer;  // only with a timeout
    std::optional<asio::any_io_executor> executor;

    /// Takes the waiter's completion under the mutex: whoever takes it — set() or the timer —
    /// resumes the waiter, exactly once.
    std::function<void(bool)> take() {
        std::function<void(bool)> r;
        r.swap(resume);
        return r;
    }
};

Event::Event() : state_(std::make_shared<State>()) {}

void Event::set() const {
    std::function<void(bool)> resume;
    bool cancel_timer = false;
    {
        std::lock_guard lock(state_->mutex);
        if (state_->set) return;
        state_->set = true;
        resume = state_->take();
        cancel_timer = resume && state_->timer.has_value();
    }
    if (!resume) return;
    if (cancel_timer) {
        // The timer was armed while the waiter published itself, under the mutex: it exists,
        // and is touched only on the waiter's executor from here on.
        asio::post(*state_->executor, [state = state_] { state->timer->cancel(); });
    }
    resume(true);
}

bool Event::is_set() const {
    std::lock_guard lock(state_->mutex);
    return state_->set;
}

namespace {

/// Suspends until `state` is set or `timeout` (if any) passes. Not a coroutine: it returns
/// the awaitable async_initiate builds, so no lambda is a temporary of a co_await (GCC 12).
template <class State>
Task<bool> suspend(const std::shared_ptr<State>& state,
                   const std::optional<std::chrono::milliseconds>& timeout) {
    auto initiate = [state, timeout](auto handler) {
        auto executor = asio::get_associated_executor(handler);
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        auto resume = [shared, executor](bool ok) {
            asio::post(executor, [shared, ok] { std::move (*shared)(ok); });
        };
        std::lock_guard lock(state->mutex);
        if (state->set) {
            resume(true);
            return;
        }
        state->resume = std::move(resume);
        if (!timeout) return;
        state->executor = executor;
        state->timer.emplace(executor, *timeout);
        state->timer->async_wait([state](const boost::system::error_code& ec) {
            if (ec) return;  // cancelled by set()
            std::function<void(bool)> r;
            {
                std::lock_guard l(state->mutex);
                r = state->take();
            }
            if (r) r(false);
        });
    };
    return asio::async_initiate<const asio::use_awaitable_t<>, void(bool)>(std::move(initiate),
                                                                           asio::use_awaitable);
}

}  // namespace

Task<void> Event::wait() const {
    const std::optional<std::chrono::milliseconds> forever;
    co_await suspend(state_, forever);
}

Task<bool> Event::wait_for(std::chrono::milliseconds timeout) const {
    const std::optional<std::chrono::milliseconds> t = timeout;
    return suspend(state_, t);
}

}  // namespace msg::core
