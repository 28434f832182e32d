#include "app/backends.hpp"

#include <filesystem>

#include "app/vectors.hpp"
#include "blob/local_store.hpp"
#include "blob/s3_store.hpp"
#include "blob/sigv4.hpp"
#include "bus/inproc_bus.hpp"
#include "bus/redis_bus.hpp"
#include "transport/http_client.hpp"

namespace msg::app {

namespace {
pg::PoolOptions with_dsn(pg::PoolOptions o, const std::string& dsn) {
    o.connection.dsn = dsn;
    return o;
}
}  // namespace

Database::Database(const PostgresConfig& config, boost::asio::io_context& io)
    : primary_(io, config.pool),
      replica_(config.read_dsn.empty()
                   ? nullptr
                   : std::make_unique<pg::Pool>(io, with_dsn(config.pool, config.read_dsn))),
      executor_(primary_, replica_.get()) {}

std::unique_ptr<Database> make_database(const Config& config, boost::asio::io_context& io) {
    // The dbman remote executor (DBMAN_ENDPOINTS) and dedicated tenants' pools come here.
    return std::make_unique<Database>(config.postgres, io);
}

std::unique_ptr<bus::Bus> make_bus(const Config& config) {
    // No Redis: one process, sockets and publishers meet in memory.
    if (config.redis_addr.empty()) return std::make_unique<bus::InprocBus>();
    bus::RedisBus::Options o;
    o.address = redis::parse_address(config.redis_addr).value();  // load_config checked it
    return std::make_unique<bus::RedisBus>(std::move(o));
}

std::unique_ptr<queue::InprocQueue> make_queue(const Config&) {
    // Consumers in this process.
    return std::make_unique<queue::InprocQueue>();
}

std::unique_ptr<queue::AmqpQueue> make_broker(const Config& config) {
    if (config.lavinmq_url.empty() || !config.use_mq) return nullptr;
    queue::AmqpQueue::Options o;
    o.url = amqp::parse_url(config.lavinmq_url).value();  // load_config checked it
    return std::make_unique<queue::AmqpQueue>(std::move(o));
}

std::unique_ptr<queue::AmqpConsumer> make_consumer(const Config& config,
                                                   boost::asio::io_context& io, std::string group,
                                                   std::vector<std::string> bindings,
                                                   queue::AmqpConsumer::Handler handler) {
    if (config.lavinmq_url.empty() || !config.use_mq) return nullptr;
    queue::AmqpConsumer::Options o;
    o.url = amqp::parse_url(config.lavinmq_url).value();  // load_config checked it
    o.prefix = config.amqp_queue_prefix;
    o.group = std::move(group);
    o.bindings = std::move(bindings);
    o.prefetch = static_cast<std::uint16_t>(config.amqp_prefetch);
    o.max_attempts = config.amqp_max_attempts;
    return std::make_unique<queue::AmqpConsumer>(std::move(o), io, std::move(handler));
}

BlobBackend make_blob_store(const Config& config, core::BlockingPool& blocking,
                            const core::Clock& clock) {
    BlobBackend out;
    const FilesConfig& f = config.files;
    if (f.s3_endpoint.empty()) {
        blob::LocalBlobStore::Options o;
        o.dir = std::filesystem::path(config.data_dir) / "blobs";
        o.public_base_url = f.public_base_url;
        // URL signatures use a key derived from JWT_SECRET: no extra secret to configure.
        o.secret = blob::hmac_sha256_hex(config.auth.jwt_secret, "msg_server blob urls");
        auto local = std::make_unique<blob::LocalBlobStore>(blocking, clock, std::move(o));
        out.local = local.get();
        out.store = std::move(local);
        return out;
    }
    blob::S3BlobStore::Options o;
    o.endpoint = (f.s3_use_ssl ? "https://" : "http://") + f.s3_endpoint;
    o.public_endpoint = f.s3_public_endpoint;
    o.bucket = f.s3_bucket;
    o.credentials = {f.s3_access_key, f.s3_secret_key, f.s3_region};
    out.http = std::make_unique<transport::BeastHttpClient>();
    out.store = std::make_unique<blob::S3BlobStore>(*out.http, clock, std::move(o));
    return out;
}

std::unique_ptr<Vectors> make_vectors(const Config& config, data::Executor& db,
                                      core::BlockingPool& blocking) {
    if (config.vector.backend == "off") return nullptr;
    return std::make_unique<Vectors>(config, db, blocking);
}

}  // namespace msg::app
