#pragma once

// One factory per seam (ARCHITECTURE §3): each picks the implementation of its engine from
// Config. The database is local pools or the dbman tier (DBMAN_ENDPOINTS; services reach it
// only through the executor; the outbox relay uses the primary pool itself), the bus and the
// event queue are in process, blobs are local disk or the S3 API, vectors are hnsw files or
// Milvus; the bus is Redis when REDIS_ADDR is set (services see bus::Bus); events also go to an
// AMQP broker when LAVINMQ_URL is set (make_broker).

#include <memory>

#include "app/config.hpp"
#include "app/roles.hpp"
#include "blob/blob_store.hpp"
#include "bus/bus.hpp"
#include "core/http_client.hpp"
#include "data/dbman_client.hpp"
#include "data/executor.hpp"
#include "queue/amqp_consumer.hpp"
#include "queue/amqp_queue.hpp"
#include "queue/event_queue.hpp"
#include "storage/pg/pool.hpp"
#include "tenant/router.hpp"

namespace boost::asio {
class io_context;
}
namespace msg::core {
class BlockingPool;
class Clock;
}  // namespace msg::core
namespace msg::blob {
class LocalBlobStore;
}

namespace msg::app {

class Vectors;

/// The database of a node. Local: the primary pool, an optional read replica
/// (POSTGRES_READ_DSN) and the executor that routes each operation (read-only ones to the
/// replica). Remote (DBMAN_ENDPOINTS, a role that may use it): the executor sends operations
/// to the dbman tier; the pool is still made when the role reads the outbox itself (relay) —
/// `primary()` is null otherwise.
class Database {
  public:
    Database(const Config& config, const Role& role, boost::asio::io_context& io,
             const data::Registry& registry, const core::Clock& clock);
    ~Database();
    data::Executor& executor() { return remote_ ? *remote_ : *local_; }
    /// The executor over this node's own pools (dbman serves with it); null when remote.
    data::Executor* local() { return local_.get(); }
    pg::Pool* primary() { return primary_.get(); }
    /// Routes dedicated tenants to their databases; with the local executor (null when remote).
    tenant::DatabaseRouter* router() { return router_.get(); }
    const data::DbmanClient* dbman() const { return client_.get(); }

  private:
    std::unique_ptr<pg::Pool> primary_;
    std::unique_ptr<pg::Pool> replica_;
    std::unique_ptr<data::Executor> local_;
    std::unique_ptr<tenant::DatabaseRouter> router_;
    std::unique_ptr<core::HttpClient> http_;
    std::unique_ptr<data::DbmanClient> client_;
    std::unique_ptr<data::Executor> remote_;
};

/// Does `role` send its data operations to the dbman tier with this config? (Not `all`, whose
/// node is the whole deployment, and not `dbman`, which is the tier.)
bool uses_dbman(const Config& config, const Role& role);
/// Does the node need POSTGRES_DSN: it runs operations locally, migrates, or reads the outbox.
bool needs_pool(const Config& config, const Role& role);

/// Every data operation of every module (the dbman wire), built once.
const data::Registry& operation_registry();

/// Redis (REDIS_ADDR) or, unset, in process. The Redis bus connects in the background: a node
/// starts degraded, not stuck, when Redis is away.
std::unique_ptr<bus::Bus> make_bus(const Config& config);
/// The queue outbox events are relayed into; in process today. It returns the concrete queue
/// because consumers subscribe on it: subscribing moves into queue::EventQueue with AMQP.
std::unique_ptr<queue::InprocQueue> make_queue(const Config& config);
/// The broker outbox events are published to before the in-process consumers see them: null
/// without LAVINMQ_URL or with CHAT_USE_MQ=false.
std::unique_ptr<queue::AmqpQueue> make_broker(const Config& config);
/// A consumer group reading the broker (queue msg.<group>), or null when make_broker() is.
std::unique_ptr<queue::AmqpConsumer> make_consumer(const Config& config,
                                                   boost::asio::io_context& io, std::string group,
                                                   std::vector<std::string> bindings,
                                                   queue::AmqpConsumer::Handler handler);

/// File bytes: the S3 API when MINIO_ENDPOINT is set, else local disk under DATA_DIR/blobs
/// (`local` is then set: its streamed /blobs routes are served by the files role).
struct BlobBackend {
    std::unique_ptr<core::HttpClient> http;  // the S3 store's and dedicated buckets' client
    std::unique_ptr<blob::BlobStore> store;
    blob::LocalBlobStore* local = nullptr;
};
BlobBackend make_blob_store(const Config& config, core::BlockingPool& blocking,
                            const core::Clock& clock);

/// The configured embedder and index (VECTOR_BACKEND); nullptr when it is `off`.
std::unique_ptr<Vectors> make_vectors(const Config& config, data::Executor& db,
                                      core::BlockingPool& blocking);

}  // namespace msg::app
