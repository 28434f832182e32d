#include "app/backends.hpp"

#include <algorithm>
#include <filesystem>

#include "app/vectors.hpp"
#include "blob/local_store.hpp"
#include "blob/s3_store.hpp"
#include "blob/sigv4.hpp"
#include "bus/inproc_bus.hpp"
#include "bus/redis_bus.hpp"
#include "chat/operations.hpp"
#include "data/operations.hpp"
#include "files/operations.hpp"
#include "notes/operations.hpp"
#include "org/operations.hpp"
#include "session/operations.hpp"
#include "tenant/operations.hpp"
#include "transport/http_client.hpp"
#include "vector/operations.hpp"

namespace msg::app {

namespace {
pg::PoolOptions with_dsn(pg::PoolOptions o, const std::string& dsn) {
    o.connection.dsn = dsn;
    return o;
}
}  // namespace

bool uses_dbman(const Config& config, const Role& role) {
    return !config.dbman.endpoints.empty() && role.name != "all" && role.name != "dbman";
}

bool needs_pool(const Config& config, const Role& role) {
    return !uses_dbman(config, role) || role.runs(Worker::outbox_relay) ||
           role.runs(Worker::migrate_on_start);
}

Database::Database(const Config& config, const Role& role, boost::asio::io_context& io,
                   const data::Registry& registry, const core::Clock& clock) {
    const PostgresConfig& pg = config.postgres;
    if (needs_pool(config, role)) {
        primary_ = std::make_unique<pg::Pool>(io, pg.pool);
        if (!pg.read_dsn.empty()) {
            replica_ = std::make_unique<pg::Pool>(io, with_dsn(pg.pool, pg.read_dsn));
        }
        local_ = std::make_unique<data::Executor>(*primary_, replica_.get());
        tenant::DatabaseRouter::Options ro;
        ro.pool = pg.pool;
        ro.pool.max_size = std::max<std::size_t>(2, pg.pool.max_size / 2);
        ro.ttl = config.tenant_cache_ttl;
        router_ = std::make_unique<tenant::DatabaseRouter>(io, *primary_, config.tenant_secrets_key,
                                                           clock, std::move(ro));
        local_->route_tenants(*router_);
    }
    if (uses_dbman(config, role)) {
        // Kept-alive connections: one TCP handshake per endpoint and loop, not per operation.
        http_ = std::make_unique<transport::BeastHttpClient>(transport::BeastHttpClient::Options{
            .max_response_bytes = 64 * 1024 * 1024, .keep_alive = true});
        data::DbmanClient::Options o;
        o.endpoints = config.dbman.endpoints;
        o.token = config.internal_api_token;
        o.fail_threshold = config.dbman.fail_threshold;
        o.cooldown = config.dbman.cooldown;
        o.timeout = config.dbman.timeout;
        client_ = std::make_unique<data::DbmanClient>(std::move(o), registry, *http_, clock);
        remote_ = std::make_unique<data::Executor>(*client_);
    }
}

Database::~Database() = default;

const data::Registry& operation_registry() {
    static const data::Registry registry = [] {
        data::Registry r;
        data::register_operations(r);
        chat::register_operations(r);
        files::register_operations(r);
        notes::register_operations(r);
        org::register_operations(r);
        session::register_operations(r);
        tenant::register_operations(r);
        vector::register_operations(r);
        return r;
    }();
    return registry;
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
    out.http = std::make_unique<transport::BeastHttpClient>();  // S3 and dedicated buckets
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
    out.store = std::make_unique<blob::S3BlobStore>(*out.http, clock, std::move(o));
    return out;
}

std::unique_ptr<Vectors> make_vectors(const Config& config, data::Executor& db,
                                      core::BlockingPool& blocking) {
    if (config.vector.backend == "off") return nullptr;
    return std::make_unique<Vectors>(config, db, blocking);
}

}  // namespace msg::app
