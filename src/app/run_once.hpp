#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <utility>

#include "core/task.hpp"

namespace msg::app {

/// Runs a coroutine to its end on `io`, a context nothing else runs (start-up checks before
/// the I/O threads exist, one-shot commands), and returns its value or rethrows.
template <class T>
T run_once(boost::asio::io_context& io, core::Task<T> task) {
    auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
    io.restart();
    io.run();
    return future.get();
}

/// The same on a fresh private context.
template <class T>
T run_once(core::Task<T> task) {
    boost::asio::io_context io;
    return run_once(io, std::move(task));
}

}  // namespace msg::app
