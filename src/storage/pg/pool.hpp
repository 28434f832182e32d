#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "core/task.hpp"
#include "storage/pg/connection.hpp"

namespace boost::asio {
class io_context;
}

namespace msg::pg {

struct PoolOptions {
    Connection::Options connection;
    std::size_t max_size = 16;
    /// How long acquire() waits for a free connection before answering "unavailable".
    std::chrono::milliseconds acquire_timeout{5000};
};

/// A bounded pool of connections, created lazily. acquire() waits (with a deadline) when all
/// are in use. A connection that comes back broken or inside a transaction (an exception
/// escaped mid-transaction) is closed instead of reused.
class Pool {
  public:
    class Lease {
      public:
        Lease(Pool* pool, Connection* conn) : pool_(pool), conn_(conn) {}
        Lease(Lease&& o) noexcept : pool_(o.pool_), conn_(o.conn_) { o.conn_ = nullptr; }
        Lease& operator=(Lease&&) = delete;
        ~Lease();
        Connection& operator*() const { return *conn_; }
        Connection* operator->() const { return conn_; }

      private:
        Pool* pool_;
        Connection* conn_;
    };

    Pool(boost::asio::io_context& io, PoolOptions options);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    /// Throws core::UnavailableException when no connection can be had before the deadline.
    core::Task<Lease> acquire();

    std::size_t size() const;    // open connections
    std::size_t in_use() const;  // leased now
    std::size_t max_size() const { return options_.max_size; }

  private:
    struct Waiter;
    void release(Connection* conn);
    void hand_over(Connection* conn);  // to a waiter, or back to idle

    boost::asio::io_context& io_;
    PoolOptions options_;
    mutable std::mutex mutex_;
    std::vector<Connection*> idle_;
    std::deque<std::shared_ptr<Waiter>> waiters_;
    std::size_t total_ = 0;
};

}  // namespace msg::pg
