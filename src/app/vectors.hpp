#pragma once

#include <chrono>
#include <memory>

#include "chat/service.hpp"
#include "core/task.hpp"

namespace boost::asio {
class io_context;
}
namespace msg::core {
class BlockingPool;
}
namespace msg::data {
class Executor;
}
namespace msg::vector {
class VectorService;
}

namespace msg::app {

struct Config;

/// The vector hook of one process (roles `vectorman` and `all`): the configured embedder and
/// index, the VectorService over them, and chat's rerank scorer in process.
class Vectors {
  public:
    Vectors(const Config& config, data::Executor& db, core::BlockingPool& blocking);
    ~Vectors();

    /// Directories or the Milvus collection; throws core::UnavailableException.
    core::Task<void> ensure();
    /// Writes changed local index files (hnsw); a no-op for Milvus.
    core::Task<void> flush();
    /// flush() every `every` until stop_flushing() (or the io_context stops).
    core::Task<void> flush_every(boost::asio::io_context& io, std::chrono::seconds every);
    /// Ends flush_every() at once; call on the io_context's thread. The final flush is the
    /// caller's (flush()).
    void stop_flushing();

    vector::VectorService& service();
    chat::RelevanceScorer& scorer();

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

/// chat's rerank scorer over HTTP: POST <VECTORMAN_ENDPOINT>/api/v1/vectors/messages/search
/// with INTERNAL_API_TOKEN (role `chat` when vectorman runs apart).
std::unique_ptr<chat::RelevanceScorer> remote_scorer(const Config& config);

}  // namespace msg::app
