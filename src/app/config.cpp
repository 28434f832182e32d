#include "app/config.hpp"

#include <charconv>
#include <string_view>

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
    r.string("BIND_ADDRESS", c.bind_address);
    r.integer("PORT", c.port, 0, 65535);
    r.integer("SESSIOND_PORT", c.session_port, 0, 65535);
    r.integer("SESSION_PORT", c.session_port, 0, 65535);
    r.string("JWT_SECRET", c.jwt_secret);
    r.integer("JWT_TTL_MINUTES", c.jwt_ttl_minutes, 1, 60 * 24 * 30);
    r.string("POSTGRES_DSN", c.postgres_dsn);
    r.string("POSTGRES_READ_DSN", c.postgres_read_dsn);
    r.integer("PG_POOL_SIZE", c.pg_pool_size, 1, 1000);
    r.integer("PG_ACQUIRE_TIMEOUT_MS", c.pg_acquire_timeout_ms, 1, 600'000);
    r.integer("PG_CONNECT_TIMEOUT_MS", c.pg_connect_timeout_ms, 1, 600'000);
    r.integer("PG_STATEMENT_TIMEOUT_MS", c.pg_statement_timeout_ms, 1, 3'600'000);
    r.string("DATA_DIR", c.data_dir);
    r.string("INTERNAL_API_TOKEN", c.internal_api_token);
    r.string("PLATFORM_TENANT_ID", c.platform_tenant_id);
    r.csv("TRUSTED_PROXIES", c.trusted_proxies);
    r.one_of("LOG_FORMAT", c.log_format, {"text", "json"});
    r.one_of("LOG_LEVEL", c.log_level,
             {"trace", "debug", "info", "warn", "error", "critical", "off"});
    r.integer("IO_THREADS", c.io_threads, 0, 256);
    r.integer("BLOCKING_THREADS", c.blocking_threads, 1, 256);
    r.integer("HTTP_BODY_LIMIT_BYTES", c.http_body_limit, 1024, 64LL * 1024 * 1024);
    r.integer("HTTP_HEADER_LIMIT_BYTES", c.http_header_limit, 1024, 1024 * 1024);
    r.integer("HTTP_READ_TIMEOUT_SECONDS", c.http_read_timeout_s, 1, 3600);
    r.integer("HTTP_IDLE_TIMEOUT_SECONDS", c.http_idle_timeout_s, 1, 3600);
    r.integer("UPLOAD_DEADLINE_SECONDS", c.upload_deadline_s, 1, 24 * 3600);
    r.integer("MAX_CONNECTIONS", c.max_connections, 1, 1'000'000);
    r.integer("SHUTDOWN_TIMEOUT_SECONDS", c.shutdown_timeout_s, 1, 600);
    r.integer("LOGIN_RATE_PER_EMAIL", c.login_per_email_per_minute, 1, 1'000'000);
    r.integer("LOGIN_RATE_PER_IP", c.login_per_ip_per_minute, 1, 1'000'000);
    r.integer("MESSAGE_RATE_PER_USER", c.sends_per_user_per_second, 1, 1'000'000);
    r.integer("WS_FRAME_LIMIT_BYTES", c.ws_frame_limit, 1024, 16 * 1024 * 1024);
    r.integer("WS_SEND_QUEUE_LIMIT", c.ws_queue_limit, 1, 1'000'000);
    r.integer("WS_PING_INTERVAL_SECONDS", c.ws_ping_interval_s, 1, 3600);
    r.integer("WS_IDLE_TIMEOUT_SECONDS", c.ws_idle_timeout_s, 2, 7200);
    r.integer("WS_FRAMES_PER_SECOND", c.ws_frames_per_second, 0, 1'000'000);
    r.integer("WS_MAX_SOCKETS_PER_USER", c.ws_max_sockets_per_user, 1, 100'000);
    r.integer("WS_BYTES_PER_SECOND", c.ws_bytes_per_second, 0, 1LL << 30);
    r.integer("PASSWORD_HASH_MEMORY_KIB", c.password_hash_memory_kib, 8, 4 * 1024 * 1024);
    r.integer("PASSWORD_HASH_OPS", c.password_hash_ops, 1, 100);
    r.integer("PASSWORD_HASH_THREADS", c.password_hash_threads, 1, 64);
    r.integer("PASSWORD_HASH_QUEUE", c.password_hash_queue, 1, 100'000);
    r.integer("VECTORMAN_PORT", c.vectorman_port, 0, 65535);
    r.one_of("VECTOR_BACKEND", c.vector_backend, {"", "hnsw", "milvus", "off"});
    r.integer("VECTOR_DIM", c.vector_dim, 8, 4096);
    r.integer("VECTOR_FLUSH_SECONDS", c.vector_flush_s, 1, 3600);
    r.string("MILVUS_ENDPOINT", c.milvus_endpoint);
    r.string("MILVUS_TOKEN", c.milvus_token);
    r.string("MILVUS_COLLECTION", c.milvus_collection);
    r.string("EMBEDDING_ENDPOINT", c.embedding_endpoint);
    r.string("EMBEDDING_MODEL", c.embedding_model);
    r.string("EMBEDDING_API_KEY", c.embedding_api_key);
    r.string("VECTORMAN_ENDPOINT", c.vectorman_endpoint);
    r.integer("FILEMAN_PORT", c.fileman_port, 0, 65535);
    r.string("PUBLIC_BASE_URL", c.public_base_url);
    r.integer("MAX_UPLOAD_BYTES", c.max_upload_bytes, 1, 1LL << 40);
    r.string("MINIO_ENDPOINT", c.minio_endpoint);
    r.string("MINIO_PUBLIC_ENDPOINT", c.minio_public_endpoint);
    r.string("MINIO_ACCESS_KEY", c.minio_access_key);
    r.string("MINIO_SECRET_KEY", c.minio_secret_key);
    r.string("MINIO_BUCKET", c.minio_bucket);
    r.string("MINIO_REGION", c.minio_region);
    std::string use_ssl = c.minio_use_ssl ? "true" : "false";
    r.one_of("MINIO_USE_SSL", use_ssl, {"true", "false", "1", "0"});
    c.minio_use_ssl = use_ssl == "true" || use_ssl == "1";
    r.string("TENANT_ID", c.admin_tenant_id);
    r.string("ADMIN_EMAIL", c.admin_email);
    if (auto v = r.raw("ADMIN_PASSWORD")) c.admin_password = *v;
    r.string("ADMIN_NAME", c.admin_name);
    r.string("ADMIN_TITLE", c.admin_title);

    if (c.dev()) c.cors_allowed_origins = {"*"};
    r.csv("CORS_ALLOWED_ORIGINS", c.cors_allowed_origins);

    if (c.jwt_secret.empty()) {
        if (c.dev()) {
            c.jwt_secret = kDefaultJwtSecret;
        } else {
            r.fail("JWT_SECRET must be set (at least 32 bytes) unless APP_ENV=dev");
        }
    } else if (!c.dev() && (c.jwt_secret == kDefaultJwtSecret || c.jwt_secret.size() < 32)) {
        r.fail(
            "JWT_SECRET must not be the default and must be at least 32 bytes unless APP_ENV=dev");
    }
    if (c.admin_password && (c.admin_password->size() < 8 || c.admin_password->size() > 128)) {
        r.fail("ADMIN_PASSWORD must be 8 to 128 bytes");
    }
    if (c.ws_idle_timeout_s <= c.ws_ping_interval_s) {
        // A peer's answer to a ping must be able to arrive before its silence counts as idle.
        r.fail("WS_IDLE_TIMEOUT_SECONDS must be greater than WS_PING_INTERVAL_SECONDS");
    }
    if (c.vector_backend.empty()) c.vector_backend = c.milvus_endpoint.empty() ? "hnsw" : "milvus";
    if (c.vector_backend == "milvus" && c.milvus_endpoint.empty()) {
        r.fail("MILVUS_ENDPOINT must be set when VECTOR_BACKEND=milvus");
    }
    if (!c.internal_api_token.empty() && c.internal_api_token.size() < 32) {
        r.fail("INTERNAL_API_TOKEN must be at least 32 bytes");
    }
    for (const auto* url : {&c.milvus_endpoint, &c.embedding_endpoint, &c.vectorman_endpoint}) {
        if (!url->empty() && !url->starts_with("http://")) {
            r.fail(
                "MILVUS_ENDPOINT, EMBEDDING_ENDPOINT and VECTORMAN_ENDPOINT must be http:// URLs");
        }
    }
    if (!c.minio_endpoint.empty() && (c.minio_endpoint.find("://") != std::string::npos ||
                                      c.minio_access_key.empty() || c.minio_secret_key.empty())) {
        r.fail(
            "MINIO_ENDPOINT is host:port (scheme from MINIO_USE_SSL) and needs "
            "MINIO_ACCESS_KEY and MINIO_SECRET_KEY");
    }
    if (r.error()) return *r.error();
    return c;
}

}  // namespace msg::app
