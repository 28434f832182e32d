#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "auth/password.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "org/credentials.hpp"
#include "org/service.hpp"
#include "storage/pg/pool.hpp"
#include "transport/http_server.hpp"
#include "transport/pipeline.hpp"

namespace msg::app {

/// The listening port of each serving role (the role table picks one).
struct Ports {
    unsigned short main = 8080;       // PORT (0 = any free port): all, chat
    unsigned short session = 8090;    // SESSION_PORT (legacy SESSIOND_PORT)
    unsigned short vectorman = 8083;  // VECTORMAN_PORT
    unsigned short fileman = 8081;    // FILEMAN_PORT
    unsigned short worker = 8084;     // WORKER_PORT (health and metrics only)
    unsigned short dbman = 8082;      // DBMAN_PORT
};

/// The dbman tier as a client sees it (roles chat, session, fileman, worker): set, their data
/// operations go to these endpoints instead of a local pool.
struct DbmanConfig {
    /// DBMAN_ENDPOINTS (comma-separated http://host:port; DBMAN_ENDPOINT when unset), trimmed,
    /// trailing '/' dropped, duplicates dropped.
    std::vector<std::string> endpoints;
    int fail_threshold = 3;                      // DBMAN_FAIL_THRESHOLD
    std::chrono::milliseconds cooldown{10'000};  // DBMAN_COOLDOWN_MS
    std::chrono::milliseconds timeout{5'000};    // DBMAN_HTTP_TIMEOUT_MS (one attempt)
};

struct PostgresConfig {
    /// POSTGRES_DSN (required by roles that use the database), PG_POOL_SIZE,
    /// PG_ACQUIRE_TIMEOUT_MS, PG_CONNECT_TIMEOUT_MS, PG_STATEMENT_TIMEOUT_MS.
    pg::PoolOptions pool;
    std::string read_dsn;  // POSTGRES_READ_DSN (optional replica for read-only operations)
    const std::string& dsn() const { return pool.connection.dsn; }
};

struct AuthConfig {
    std::string jwt_secret;              // JWT_SECRET
    std::chrono::minutes jwt_ttl{1440};  // JWT_TTL_MINUTES
    /// PASSWORD_HASH_OPS, PASSWORD_HASH_MEMORY_KIB (argon2id); libsodium's interactive cost.
    auth::PasswordHasher::Cost password_cost = auth::PasswordHasher::interactive();
    int hash_threads = 1;                   // PASSWORD_HASH_THREADS (a pool of its own)
    int hash_queue = 32;                    // PASSWORD_HASH_QUEUE (logins past it → 503)
    org::LoginLimits login;                 // LOGIN_RATE_PER_EMAIL, LOGIN_RATE_PER_IP
    org::Credentials::Options credentials;  // WS_MAX_SOCKETS_PER_USER (per node)
};

/// Vectors (vectorman; in process in `all`).
struct VectorConfig {
    std::string backend;    // VECTOR_BACKEND: hnsw | milvus | off ("" → milvus when
                            // MILVUS_ENDPOINT is set, else hnsw)
    std::size_t dim = 256;  // VECTOR_DIM
    std::chrono::seconds flush_every{10};        // VECTOR_FLUSH_SECONDS (hnsw files)
    std::string milvus_endpoint;                 // MILVUS_ENDPOINT (http://host:19530)
    std::string milvus_token;                    // MILVUS_TOKEN
    std::string milvus_collection = "messages";  // MILVUS_COLLECTION
    std::string embedding_endpoint;  // EMBEDDING_ENDPOINT (OpenAI-compatible; "" = built-in)
    std::string embedding_model = "text-embedding-3-small";  // EMBEDDING_MODEL
    std::string embedding_api_key;                           // EMBEDDING_API_KEY
    std::string vectorman_endpoint;  // VECTORMAN_ENDPOINT (role chat: the rerank's vectorman)
};

/// Files (fileman; in `all` on PORT). MINIO_ENDPOINT set → the S3 API, else local disk
/// under DATA_DIR/blobs with streamed /blobs routes.
struct FilesConfig {
    std::string public_base_url;  // PUBLIC_BASE_URL (local blob URLs; "" → Host)
    std::uint64_t max_upload_bytes = 100ull * 1024 * 1024;  // MAX_UPLOAD_BYTES (local store)
    std::string s3_endpoint;               // MINIO_ENDPOINT (host:port, as the seed)
    std::string s3_public_endpoint;        // MINIO_PUBLIC_ENDPOINT (URL clients reach)
    std::string s3_access_key;             // MINIO_ACCESS_KEY
    std::string s3_secret_key;             // MINIO_SECRET_KEY
    std::string s3_bucket = "chat-files";  // MINIO_BUCKET
    std::string s3_region = "us-east-1";   // MINIO_REGION
    bool s3_use_ssl = false;               // MINIO_USE_SSL
};

/// `seed-admin`.
struct AdminConfig {
    std::string tenant_id = "default";        // TENANT_ID
    std::string email = "admin@example.com";  // ADMIN_EMAIL
    std::optional<std::string> password;      // ADMIN_PASSWORD (unset: generated)
    std::string name = "Admin";               // ADMIN_NAME
    std::string title = "Administrator";      // ADMIN_TITLE
};

/// Every setting of the process, read once from the environment (seed names where the seed had
/// one) and validated. Each section is handed whole to the subsystem that owns it; where a
/// subsystem has an options type, the section is that type (no copying field by field).
struct Config {
    std::string app_env = "prod";  // APP_ENV: dev relaxes the JWT secret rule and CORS default
    Ports ports;
    /// BIND_ADDRESS, HTTP_BODY_LIMIT_BYTES, HTTP_HEADER_LIMIT_BYTES, HTTP_READ_TIMEOUT_SECONDS,
    /// HTTP_IDLE_TIMEOUT_SECONDS, UPLOAD_DEADLINE_SECONDS, MAX_CONNECTIONS, TRUSTED_PROXIES
    /// (CSV of addresses); in `ws`: WS_FRAME_LIMIT_BYTES, WS_SEND_QUEUE_LIMIT,
    /// WS_PING_INTERVAL_SECONDS, WS_IDLE_TIMEOUT_SECONDS, WS_FRAMES_PER_SECOND,
    /// WS_BYTES_PER_SECOND. The port comes from `ports` by role.
    transport::ServerOptions server;
    transport::CorsOptions cors;  // CORS_ALLOWED_ORIGINS (CSV; dev → *)
    core::LogConfig log;          // LOG_FORMAT, LOG_LEVEL
    PostgresConfig postgres;
    DbmanConfig dbman;
    AuthConfig auth;
    int sends_per_user_per_second = 50;  // MESSAGE_RATE_PER_USER (messages, notes, notify)

    std::string data_dir = "./var/data";        // DATA_DIR
    std::string internal_api_token;             // INTERNAL_API_TOKEN (internal routes)
    std::chrono::seconds tenant_cache_ttl{30};  // TENANT_CACHE_TTL_SECONDS
    std::string tenant_secrets_key;  // TENANT_SECRETS_KEY: dedicated tenants' credentials at rest
    std::string tenant_move_dsn;     // TENANT_MOVE_DSN: `tenant-move`'s target (kept out of argv)
    std::string platform_tenant_id = "default";  // PLATFORM_TENANT_ID

    int io_threads = 0;                         // IO_THREADS (0 = one per core)
    int blocking_threads = 2;                   // BLOCKING_THREADS (file I/O, images)
    std::chrono::seconds shutdown_timeout{10};  // SHUTDOWN_TIMEOUT_SECONDS

    /// REDIS_ADDR (seed name: `host:port` or `redis://[:password@]host[:port][/db]`): the bus
    /// between nodes. Unset: one node, in-process bus.
    std::string redis_addr;
    /// PRESENCE_NODE_TTL_SECONDS: a node silent for this long is taken for crashed and its
    /// users' sockets for closed (Redis presence directory; beats every third of it).
    std::chrono::seconds presence_node_ttl{15};
    /// LAVINMQ_URL (seed name, `amqp://user:pass@host:port/vhost`): the broker the outbox relay
    /// publishes events to (exchange `chat.events`). Unset: in-process consumers only.
    std::string lavinmq_url;
    /// CHAT_USE_MQ (seed, default true): false publishes nothing to the broker; in-process
    /// consumers still run.
    bool use_mq = true;
    /// OUTBOX_RETENTION_SECONDS: published outbox rows are deleted after this long.
    std::chrono::seconds outbox_retention{3600};
    /// AMQP_PREFETCH, AMQP_MAX_ATTEMPTS: a consumer group's unacknowledged deliveries at most,
    /// and the attempts of an event before it goes to msg.dlq.
    int amqp_prefetch = 16;
    int amqp_max_attempts = 5;
    std::string amqp_queue_prefix = "msg";  // AMQP_QUEUE_PREFIX: <prefix>.<group>, <prefix>.dlq
    /// OUTBOX_RELAY_BATCH: outbox rows claimed, published and confirmed together per pass.
    int outbox_batch = 1000;

    VectorConfig vector;
    FilesConfig files;
    AdminConfig admin;

    bool dev() const { return app_env == "dev"; }
};

inline constexpr const char* kDefaultJwtSecret = "change-me-in-production";

using Getenv = std::function<const char*(const char*)>;

/// Reads and validates. A bad value is an error naming the variable, e.g.
/// "PORT must be an integer from 0 to 65535 (got \"80a\")".
core::Result<Config> load_config(const Getenv& getenv);

}  // namespace msg::app
