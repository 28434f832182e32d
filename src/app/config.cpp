#include "app/config.hpp"

#include <charconv>
#include <chrono>
#include <string_view>

#include "amqp/url.hpp"
#include "data/dbman_client.hpp"
#include "redis/address.hpp"

namespace msg::app {

namespace {

/// Reads one variable at a time and keeps the first error.
class Reader {
  public:
    explicit Reader(const Getenv& getenv) : getenv_(getenv) {}

    /// Unset or empty → nullopt.
    std::optional<std::string> raw(const char* name) const {
        const char* v = getenv_(name);
        if (v == nullptr || *v == '\0') return std::nullopt;
        return std::string(v);
    }

    void string(const char* name, std::string& out) {
        if (auto v = raw(name)) out = *v;
    }

    template <class Int>
    void integer(const char* name, Int& out, long long min, long long max) {
        auto v = raw(name);
        if (!v) return;
        long long parsed = 0;
        auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), parsed);
        if (ec != std::errc{} || end != v->data() + v->size() || parsed < min || parsed > max) {
            fail(std::string(name) + " must be an integer from " + std::to_string(min) + " to " +
                 std::to_string(max) + " (got \"" + *v + "\")");
            return;
        }
        out = static_cast<Int>(parsed);
    }

    /// A duration in whole units of `out` (seconds, milliseconds…).
    template <class Rep, class Period>
    void duration(const char* name, std::chrono::duration<Rep, Period>& out, long long min,
                  long long max) {
        long long count = out.count();
        integer(name, count, min, max);
        out = std::chrono::duration<Rep, Period>(count);
    }

    /// true/false/1/0.
    void boolean(const char* name, bool& out) {
        std::string v = out ? "true" : "false";
        one_of(name, v, {"true", "false", "1", "0"});
        out = v == "true" || v == "1";
    }

    void one_of(const char* name, std::string& out,
                std::initializer_list<std::string_view> allowed) {
        auto v = raw(name);
        if (!v) return;
        for (auto a : allowed) {
            if (*v == a) {
                out = *v;
                return;
            }
        }
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        fail(std::string(name) + " must be one of " + list + " (got \"" + *v + "\")");
    }

    void csv(const char* name, std::vector<std::string>& out) {
        auto v = raw(name);
        if (!v) return;
        out.clear();
        std::string_view rest = *v;
        while (!rest.empty()) {
            auto comma = rest.find(',');
            auto item = rest.substr(0, comma);
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
            while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
            if (item.empty()) continue;
            bool seen = false;
            for (const auto& o : out) seen = seen || o == item;
            if (!seen) out.emplace_back(item);
        }
    }

    void fail(std::string message) {
        if (!error_) error_ = core::invalid(std::move(message));
    }
    const std::optional<core::Error>& error() const { return error_; }

  private:
    const Getenv& getenv_;
    std::optional<core::Error> error_;
};

}  // namespace

core::Result<Config> load_config(const Getenv& getenv) {
    Config c;
    Reader r(getenv);
    r.one_of("APP_ENV", c.app_env, {"dev", "test", "staging", "prod"});
    r.integer("PORT", c.ports.main, 0, 65535);
    r.integer("SESSIOND_PORT", c.ports.session, 0, 65535);
    r.integer("SESSION_PORT", c.ports.session, 0, 65535);
    r.integer("VECTORMAN_PORT", c.ports.vectorman, 0, 65535);
    r.integer("WORKER_PORT", c.ports.worker, 0, 65535);
    r.integer("FILEMAN_PORT", c.ports.fileman, 0, 65535);
    r.integer("DBMAN_PORT", c.ports.dbman, 0, 65535);

    auto& http = c.server;
    r.string("BIND_ADDRESS", http.address);
    r.integer("HTTP_BODY_LIMIT_BYTES", http.body_limit, 1024, 64LL * 1024 * 1024);
    r.integer("HTTP_HEADER_LIMIT_BYTES", http.header_limit, 1024, 1024 * 1024);
    r.duration("HTTP_READ_TIMEOUT_SECONDS", http.read_timeout, 1, 3600);
    r.duration("HTTP_IDLE_TIMEOUT_SECONDS", http.idle_timeout, 1, 3600);
    r.duration("UPLOAD_DEADLINE_SECONDS", http.stream_deadline, 1, 24 * 3600);
    r.integer("MAX_CONNECTIONS", http.max_connections, 1, 1'000'000);
    r.integer("MAX_CONNECTIONS_PER_ADDRESS", http.max_connections_per_address, 0, 1'000'000);
    r.csv("TRUSTED_PROXIES", http.trusted_proxies);
    r.integer("WS_FRAME_LIMIT_BYTES", http.ws.frame_limit, 1024, 16 * 1024 * 1024);
    r.integer("WS_SEND_QUEUE_LIMIT", http.ws.queue_limit, 1, 1'000'000);
    r.duration("WS_PING_INTERVAL_SECONDS", http.ws.ping_interval, 1, 3600);
    r.duration("WS_IDLE_TIMEOUT_SECONDS", http.ws.idle_timeout, 2, 7200);
    r.integer("WS_FRAMES_PER_SECOND", http.ws.frames_per_second, 0, 1'000'000);
    r.integer("WS_BYTES_PER_SECOND", http.ws.bytes_per_second, 0, 1LL << 30);

    auto& auth = c.auth;
    r.string("JWT_SECRET", auth.jwt_secret);
    r.duration("JWT_TTL_MINUTES", auth.jwt_ttl, 1, 60 * 24 * 30);
    r.integer("LOGIN_RATE_PER_EMAIL", auth.login.per_email_per_minute, 1, 1'000'000);
    r.integer("LOGIN_RATE_PER_IP", auth.login.per_ip_per_minute, 1, 1'000'000);
    std::size_t hash_kib = auth.password_cost.mem_bytes / 1024;
    r.integer("PASSWORD_HASH_MEMORY_KIB", hash_kib, 8, 4 * 1024 * 1024);
    auth.password_cost.mem_bytes = hash_kib * 1024;
    r.integer("PASSWORD_HASH_OPS", auth.password_cost.ops, 1, 100);
    r.integer("PASSWORD_HASH_THREADS", auth.hash_threads, 1, 64);
    r.integer("PASSWORD_HASH_QUEUE", auth.hash_queue, 1, 100'000);
    r.integer("WS_MAX_SOCKETS_PER_USER", auth.credentials.max_sockets_per_user, 1, 100'000);

    auto& pg = c.postgres;
    r.string("POSTGRES_DSN", pg.pool.connection.dsn);
    r.string("POSTGRES_WRITE_DSN", pg.pool.connection.dsn);  // the seed's name wins when set
    r.string("POSTGRES_READ_DSN", pg.read_dsn);
    r.integer("PG_POOL_SIZE", pg.pool.max_size, 1, 1000);
    r.duration("PG_ACQUIRE_TIMEOUT_MS", pg.pool.acquire_timeout, 1, 600'000);
    r.duration("PG_CONNECT_TIMEOUT_MS", pg.pool.connection.connect_timeout, 1, 600'000);
    r.duration("PG_STATEMENT_TIMEOUT_MS", pg.pool.connection.statement_timeout, 1, 3'600'000);

    auto& dbman = c.dbman;
    r.csv("DBMAN_ENDPOINT", dbman.endpoints);
    r.csv("DBMAN_ENDPOINTS", dbman.endpoints);  // the list wins over the single endpoint
    dbman.endpoints = data::normalize_endpoints(dbman.endpoints);
    r.integer("DBMAN_FAIL_THRESHOLD", dbman.fail_threshold, 1, 1000);
    r.duration("DBMAN_COOLDOWN_MS", dbman.cooldown, 0, 3'600'000);
    r.duration("DBMAN_HTTP_TIMEOUT_MS", dbman.timeout, 1, 600'000);

    r.string("REDIS_ADDR", c.redis_addr);
    r.duration("PRESENCE_NODE_TTL_SECONDS", c.presence_node_ttl, 3, 3600);
    r.string("LAVINMQ_URL", c.lavinmq_url);
    r.boolean("CHAT_USE_MQ", c.use_mq);
    r.duration("OUTBOX_RETENTION_SECONDS", c.outbox_retention, 60, 90 * 24 * 3600);
    r.integer("OUTBOX_RELAY_BATCH", c.outbox_batch, 1, 20'000);
    r.integer("AMQP_PREFETCH", c.amqp_prefetch, 1, 10'000);
    r.integer("AMQP_MAX_ATTEMPTS", c.amqp_max_attempts, 1, 100);
    r.string("AMQP_QUEUE_PREFIX", c.amqp_queue_prefix);
    r.string("DATA_DIR", c.data_dir);
    r.string("INTERNAL_API_TOKEN", c.internal_api_token);
    r.string("TENANT_SECRETS_KEY", c.tenant_secrets_key);
    r.string("TENANT_MOVE_DSN", c.tenant_move_dsn);
    r.duration("TENANT_CACHE_TTL_SECONDS", c.tenant_cache_ttl, 1, 3600);
    r.string("PLATFORM_TENANT_ID", c.platform_tenant_id);
    r.one_of("LOG_FORMAT", c.log.format, {"text", "json"});
    r.one_of("LOG_LEVEL", c.log.level,
             {"trace", "debug", "info", "warn", "error", "critical", "off"});
    r.integer("IO_THREADS", c.io_threads, 0, 256);
    r.integer("BLOCKING_THREADS", c.blocking_threads, 1, 256);
    r.duration("SHUTDOWN_TIMEOUT_SECONDS", c.shutdown_timeout, 1, 600);
    r.integer("MESSAGE_RATE_PER_USER", c.sends_per_user_per_second, 1, 1'000'000);

    auto& v = c.vector;
    r.one_of("VECTOR_BACKEND", v.backend, {"", "hnsw", "milvus", "off"});
    r.integer("VECTOR_DIM", v.dim, 8, 4096);
    r.duration("VECTOR_FLUSH_SECONDS", v.flush_every, 1, 3600);
    r.string("MILVUS_ENDPOINT", v.milvus_endpoint);
    r.string("MILVUS_TOKEN", v.milvus_token);
    r.string("MILVUS_COLLECTION", v.milvus_collection);
    r.string("EMBEDDING_ENDPOINT", v.embedding_endpoint);
    r.string("EMBEDDING_MODEL", v.embedding_model);
    r.string("EMBEDDING_API_KEY", v.embedding_api_key);
    r.string("VECTORMAN_ENDPOINT", v.vectorman_endpoint);

    auto& f = c.files;
    r.string("PUBLIC_BASE_URL", f.public_base_url);
    r.integer("MAX_UPLOAD_BYTES", f.max_upload_bytes, 1, 1LL << 40);
    r.string("MINIO_ENDPOINT", f.s3_endpoint);
    r.string("MINIO_PUBLIC_ENDPOINT", f.s3_public_endpoint);
    r.string("MINIO_ACCESS_KEY", f.s3_access_key);
    r.string("MINIO_SECRET_KEY", f.s3_secret_key);
    r.string("MINIO_BUCKET", f.s3_bucket);
    r.string("MINIO_REGION", f.s3_region);
    r.boolean("MINIO_USE_SSL", f.s3_use_ssl);

    r.string("TENANT_ID", c.admin.tenant_id);
    r.string("ADMIN_EMAIL", c.admin.email);
    if (auto p = r.raw("ADMIN_PASSWORD")) c.admin.password = *p;
    r.string("ADMIN_NAME", c.admin.name);
    r.string("ADMIN_TITLE", c.admin.title);

    if (c.dev()) c.cors.allowed_origins = {"*"};
    r.csv("CORS_ALLOWED_ORIGINS", c.cors.allowed_origins);

    if (auth.jwt_secret.empty()) {
        if (c.dev()) {
            auth.jwt_secret = kDefaultJwtSecret;
        } else {
            r.fail("JWT_SECRET must be set (at least 32 bytes) unless APP_ENV=dev");
        }
    } else if (!c.dev() && (auth.jwt_secret == kDefaultJwtSecret || auth.jwt_secret.size() < 32)) {
        r.fail(
            "JWT_SECRET must not be the default and must be at least 32 bytes unless APP_ENV=dev");
    }
    if (c.admin.password && (c.admin.password->size() < 8 || c.admin.password->size() > 128)) {
        r.fail("ADMIN_PASSWORD must be 8 to 128 bytes");
    }
    if (http.ws.idle_timeout <= http.ws.ping_interval) {
        // A peer's answer to a ping must be able to arrive before its silence counts as idle.
        r.fail("WS_IDLE_TIMEOUT_SECONDS must be greater than WS_PING_INTERVAL_SECONDS");
    }
    if (v.backend.empty()) v.backend = v.milvus_endpoint.empty() ? "hnsw" : "milvus";
    if (v.backend == "milvus" && v.milvus_endpoint.empty()) {
        r.fail("MILVUS_ENDPOINT must be set when VECTOR_BACKEND=milvus");
    }
    if (!c.internal_api_token.empty() && c.internal_api_token.size() < 32) {
        r.fail("INTERNAL_API_TOKEN must be at least 32 bytes");
    }
    if (!c.tenant_secrets_key.empty() && c.tenant_secrets_key.size() < 32) {
        r.fail("TENANT_SECRETS_KEY must be at least 32 bytes");
    }
    for (const auto& e : dbman.endpoints) {
        if (!e.starts_with("http://")) r.fail("DBMAN_ENDPOINTS must be http:// URLs");
    }
    if (!dbman.endpoints.empty() && c.internal_api_token.empty()) {
        r.fail("INTERNAL_API_TOKEN must be set with DBMAN_ENDPOINTS");
    }
    for (const auto* url : {&v.milvus_endpoint, &v.embedding_endpoint, &v.vectorman_endpoint}) {
        if (!url->empty() && !url->starts_with("http://")) {
            r.fail(
                "MILVUS_ENDPOINT, EMBEDDING_ENDPOINT and VECTORMAN_ENDPOINT must be http:// URLs");
        }
    }
    if (!f.s3_endpoint.empty() && (f.s3_endpoint.find("://") != std::string::npos ||
                                   f.s3_access_key.empty() || f.s3_secret_key.empty())) {
        r.fail(
            "MINIO_ENDPOINT is host:port (scheme from MINIO_USE_SSL) and needs "
            "MINIO_ACCESS_KEY and MINIO_SECRET_KEY");
    }
    if (!c.redis_addr.empty()) {
        if (auto a = redis::parse_address(c.redis_addr); !a) r.fail(a.error().message);
    }
    if (!c.lavinmq_url.empty()) {
        if (auto u = amqp::parse_url(c.lavinmq_url); !u) r.fail(u.error().message);
    }
    if (c.amqp_queue_prefix.empty() || c.amqp_queue_prefix.size() > 64) {
        r.fail("AMQP_QUEUE_PREFIX must be 1..64 bytes");
    }
    if (r.error()) return *r.error();
    return c;
}

}  // namespace msg::app
