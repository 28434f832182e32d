#pragma once

// The coroutine type of every async function (STYLE rule 8). Only the light awaitable header is
// included here so domain headers stay free of the heavy Asio/Beast headers.
#include <boost/asio/awaitable.hpp>

namespace msg::core {

template <class T = void>
using Task = boost::asio::awaitable<T>;

}  // namespace msg::core
