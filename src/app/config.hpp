#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace msg::app {

/// Every setting of the process, read once from the environment (seed names where the seed had
/// one) and validated. Subsystems receive only their part, through constructors.
struct Config {
    std::string app_env = "prod";  // APP_ENV: dev relaxes the JWT secret rule and CORS default
    std::string bind_address = "0.0.0.0";  // BIND_ADDRESS
    unsigned short port = 8080;            // PORT (0 = any free port)
    unsigned short session_port = 8090;    // SESSION_PORT (legacy SESSIOND_PORT)

    std::string jwt_secret;      // JWT_SECRET
    int jwt_ttl_minutes = 1440;  // JWT_TTL_MINUTES

    std::string postgres_dsn;             // POSTGRES_DSN (required by roles that use the database)
    std::string postgres_read_dsn;        // POSTGRES_READ_DSN (optional replica for read-only ops)
    int pg_pool_size = 16;                // PG_POOL_SIZE
    int pg_acquire_timeout_ms = 5000;     // PG_ACQUIRE_TIMEOUT_MS
    int pg_connect_timeout_ms = 5000;     // PG_CONNECT_TIMEOUT_MS
    int pg_statement_timeout_ms = 30000;  // PG_STATEMENT_TIMEOUT_MS

    std::string data_dir = "./var/data";         // DATA_DIR
    std::string internal_api_token;              // INTERNAL_API_TOKEN (internal routes: vectorman)
    std::string platform_tenant_id = "default";  // PLATFORM_TENANT_ID
    std::vector<std::string> trusted_proxies;    // TRUSTED_PROXIES (CSV of addresses)
    std::vector<std::string> cors_allowed_origins;  // CORS_ALLOWED_ORIGINS (CSV; dev → *)

    std::string log_format = "text";  // LOG_FORMAT: text | json
    std::string log_level = "info";   // LOG_LEVEL

    int io_threads = 0;                         // IO_THREADS (0 = one per core)
    int blocking_threads = 2;                   // BLOCKING_THREADS (file I/O, images)
    std::size_t http_body_limit = 1024 * 1024;  // HTTP_BODY_LIMIT_BYTES
    std::size_t http_header_limit = 16 * 1024;  // HTTP_HEADER_LIMIT_BYTES
    int http_read_timeout_s = 15;               // HTTP_READ_TIMEOUT_SECONDS
    int http_idle_timeout_s = 60;               // HTTP_IDLE_TIMEOUT_SECONDS
    int upload_deadline_s = 900;                // UPLOAD_DEADLINE_SECONDS (a whole /blobs body)
    int max_connections = 18000;                // MAX_CONNECTIONS
    int shutdown_timeout_s = 10;                // SHUTDOWN_TIMEOUT_SECONDS

    int login_per_email_per_minute = 10;           // LOGIN_RATE_PER_EMAIL
    int login_per_ip_per_minute = 100;             // LOGIN_RATE_PER_IP
    int sends_per_user_per_second = 50;            // MESSAGE_RATE_PER_USER
    std::size_t ws_frame_limit = 64 * 1024;        // WS_FRAME_LIMIT_BYTES (→ close 1009)
    std::size_t ws_queue_limit = 1024;             // WS_SEND_QUEUE_LIMIT frames (→ close 1013)
    int ws_ping_interval_s = 30;                   // WS_PING_INTERVAL_SECONDS
    int ws_idle_timeout_s = 90;                    // WS_IDLE_TIMEOUT_SECONDS
    int ws_frames_per_second = 50;                 // WS_FRAMES_PER_SECOND (0: unlimited)
    int ws_max_sockets_per_user = 32;              // WS_MAX_SOCKETS_PER_USER (per node)
    int ws_bytes_per_second = 256 * 1024;          // WS_BYTES_PER_SECOND (0: unlimited)
    std::size_t password_hash_memory_kib = 65536;  // PASSWORD_HASH_MEMORY_KIB (argon2id)
    int password_hash_ops = 2;                     // PASSWORD_HASH_OPS
    int password_hash_threads = 1;                 // PASSWORD_HASH_THREADS (own pool)
    int password_hash_queue = 32;                  // PASSWORD_HASH_QUEUE (logins past → 503)

    // Vectors (vectorman; in process in `all`)
    unsigned short vectorman_port = 8083;  // VECTORMAN_PORT
    std::string vector_backend;            // VECTOR_BACKEND: hnsw | milvus | off ("" → milvus
                                           // when MILVUS_ENDPOINT is set, else hnsw)
    std::size_t vector_dim = 256;          // VECTOR_DIM
    int vector_flush_s = 10;               // VECTOR_FLUSH_SECONDS (hnsw files)
    std::string milvus_endpoint;           // MILVUS_ENDPOINT (http://host:19530)
    std::string milvus_token;              // MILVUS_TOKEN
    std::string milvus_collection = "messages";  // MILVUS_COLLECTION
    std::string embedding_endpoint;  // EMBEDDING_ENDPOINT (OpenAI-compatible; "" = built-in)
    std::string embedding_model = "text-embedding-3-small";  // EMBEDDING_MODEL
    std::string embedding_api_key;                           // EMBEDDING_API_KEY
    std::string vectorman_endpoint;  // VECTORMAN_ENDPOINT (role chat: the rerank's vectorman)

    // Files (fileman; in `all` on PORT). MINIO_ENDPOINT set → S3 API, else local disk with
    // streamed /blobs routes.
    unsigned short fileman_port = 8081;  // FILEMAN_PORT
    std::string public_base_url;         // PUBLIC_BASE_URL (local blob URLs; "" → Host)
    std::uint64_t max_upload_bytes = 100ull * 1024 * 1024;  // MAX_UPLOAD_BYTES (local store)
    std::string minio_endpoint;               // MINIO_ENDPOINT (host:port, as the seed)
    std::string minio_public_endpoint;        // MINIO_PUBLIC_ENDPOINT (URL clients reach)
    std::string minio_access_key;             // MINIO_ACCESS_KEY
    std::string minio_secret_key;             // MINIO_SECRET_KEY
    std::string minio_bucket = "chat-files";  // MINIO_BUCKET
    std::string minio_region = "us-east-1";   // MINIO_REGION
    bool minio_use_ssl = false;               // MINIO_USE_SSL

    // seed-admin
    std::string admin_tenant_id = "default";        // TENANT_ID
    std::string admin_email = "admin@example.com";  // ADMIN_EMAIL
    std::optional<std::string> admin_password;      // ADMIN_PASSWORD (unset: generated)
    std::string admin_name = "Admin";               // ADMIN_NAME
    std::string admin_title = "Administrator";      // ADMIN_TITLE

    bool dev() const { return app_env == "dev"; }
};

inline constexpr const char* kDefaultJwtSecret = "change-me-in-production";

using Getenv = std::function<const char*(const char*)>;

/// Reads and validates. A bad value is an error naming the variable, e.g.
/// "PORT must be an integer from 0 to 65535 (got \"80a\")".
core::Result<Config> load_config(const Getenv& getenv);

}  // namespace msg::app
