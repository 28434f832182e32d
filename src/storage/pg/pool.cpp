#include "storage/pg/pool.hpp"

#include <boost/asio/io_context.hpp>

#include "core/error.hpp"
#include "core/event.hpp"

namespace msg::pg {

namespace asio = boost::asio;

/// A suspended acquire(). The releasing thread fills `conn` (or sets `create` when a broken
/// connection freed a slot) under the pool mutex, then sets `woken`; the waiter reads the
/// outcome under the mutex after it wakes, so nothing is lost when the deadline and a
/// hand-over race, and a hand-over before the waiter suspends still wakes it at once.
struct Pool::Waiter {
    core::Event woken;
    Connection* conn = nullptr;
    bool create = false;
    bool done = false;
};

Pool::Pool(asio::io_context& io, PoolOptions options) : io_(io), options_(std::move(options)) {}

Pool::~Pool() {
    for (Connection* c : idle_) delete c;
}

std::size_t Pool::size() const {
    std::lock_guard lock(mutex_);
    return total_;
}

std::size_t Pool::in_use() const {
    std::lock_guard lock(mutex_);
    return total_ - idle_.size();
}

Pool::Lease::~Lease() {
    if (conn_ != nullptr) pool_->release(conn_);
}

core::Task<Pool::Lease> Pool::acquire() {
    std::shared_ptr<Waiter> waiter;
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            Connection* c = idle_.back();
            idle_.pop_back();
            co_return Lease(this, c);
        }
        if (total_ < options_.max_size) {
            ++total_;
        } else {
            waiter = std::make_shared<Waiter>();
            waiters_.push_back(waiter);
        }
    }

    if (waiter) {
        co_await waiter->woken.wait_for(options_.acquire_timeout);
        std::lock_guard lock(mutex_);
        if (!waiter->done) {
            std::erase(waiters_, waiter);
            throw core::UnavailableException("database pool exhausted");
        }
        if (waiter->conn != nullptr) co_return Lease(this, waiter->conn);
        // waiter->create: a slot was freed for us (total_ already counts it).
    }

    try {
        auto conn = co_await Connection::connect(io_, options_.connection);
        co_return Lease(this, conn.release());
    } catch (...) {
        std::lock_guard lock(mutex_);
        --total_;
        throw;
    }
}

void Pool::release(Connection* conn) {
    if (conn->broken() || conn->in_transaction()) {
        delete conn;
        hand_over(nullptr);
        return;
    }
    hand_over(conn);
}

void Pool::hand_over(Connection* conn) {
    std::shared_ptr<Waiter> waiter;
    {
        std::lock_guard lock(mutex_);
        if (waiters_.empty()) {
            if (conn != nullptr) {
                idle_.push_back(conn);
            } else {
                --total_;
            }
            return;
        }
        waiter = waiters_.front();
        waiters_.pop_front();
        waiter->done = true;
        waiter->conn = conn;
        waiter->create = conn == nullptr;
    }
    waiter->woken.set();
}

}  // namespace msg::pg
