#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/http.hpp"

namespace boost::asio {
class io_context;
}

namespace msg::testing {

/// Our HTTP server on 127.0.0.1 with a free port, serving `routes` — for fakes of other
/// services in tests (Milvus, an embedding endpoint), talked to over real HTTP.
class LoopbackServer {
  public:
    /// `internal_token`: the bearer token Access::internal routes take ("" refuses them).
    LoopbackServer(boost::asio::io_context& io, std::vector<core::Route> routes,
                   std::size_t body_limit = 16 * 1024 * 1024, std::string internal_token = "");
    ~LoopbackServer();
    LoopbackServer(const LoopbackServer&) = delete;
    LoopbackServer& operator=(const LoopbackServer&) = delete;

    unsigned short port() const;
    std::string base_url() const;  // http://127.0.0.1:<port>

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace msg::testing
