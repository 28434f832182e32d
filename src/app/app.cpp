#include "app/app.hpp"

#include <spdlog/logger.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/object.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "app/vectors.hpp"
#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "blob/local_routes.hpp"
#include "blob/local_store.hpp"
#include "blob/s3_store.hpp"
#include "blob/sigv4.hpp"
#include "bus/inproc_bus.hpp"
#include "chat/operations.hpp"
#include "chat/realtime.hpp"
#include "chat/routes.hpp"
#include "chat/service.hpp"
#include "core/blocking.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "data/executor.hpp"
#include "files/handlers.hpp"
#include "files/service.hpp"
#include "notes/routes.hpp"
#include "notes/service.hpp"
#include "org/credentials.hpp"
#include "org/operations.hpp"
#include "org/routes.hpp"
#include "org/service.hpp"
#include "queue/outbox_relay.hpp"
#include "search/tokenizer.hpp"
#include "session/events.hpp"
#include "session/hub.hpp"
#include "session/model.hpp"
#include "session/presence.hpp"
#include "session/realtime.hpp"
#include "session/routes.hpp"
#include "session/service.hpp"
#include "storage/pg/migrate.hpp"
#include "storage/pg/pool.hpp"
#include "tenant/routes.hpp"
#include "tenant/service.hpp"
#include "transport/http_client.hpp"
#include "transport/http_server.hpp"
#include "transport/pipeline.hpp"
#include "vector/handlers.hpp"
#include "vector/service.hpp"

namespace msg::app {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

pg::PoolOptions pool_options(const Config& c, const std::string& dsn) {
    pg::PoolOptions o;
    o.connection.dsn = dsn;
    o.connection.connect_timeout = std::chrono::milliseconds(c.pg_connect_timeout_ms);
    o.connection.statement_timeout = std::chrono::milliseconds(c.pg_statement_timeout_ms);
    o.max_size = static_cast<std::size_t>(c.pg_pool_size);
    o.acquire_timeout = std::chrono::milliseconds(c.pg_acquire_timeout_ms);
    return o;
}

/// Readiness: the database answered a trivial query. The answer is cached for a second, and
/// one probe runs at a time (callers meanwhile get the last answer): an unauthenticated flood
/// of /health/ready costs at most one pool checkout a second, not one per call.
struct ReadyProbe {
    std::mutex mutex;
    std::chrono::steady_clock::time_point checked{};
    bool ok = false;
    bool probing = false;
};

core::Task<core::Result<core::HttpResponse>> ready(pg::Pool* pool, ReadyProbe* probe) {
    const auto now = std::chrono::steady_clock::now();
    bool run = false, ok = false;
    {
        std::lock_guard lock(probe->mutex);
        ok = probe->ok;
        if (!probe->probing && now - probe->checked >= std::chrono::seconds(1)) {
            probe->probing = run = true;
        }
    }
    if (run) {
        std::string failure;
        try {
            auto conn = co_await pool->acquire();
            co_await conn->query("SELECT 1");
        } catch (const std::exception& e) {
            failure = e.what();
        }
        if (!failure.empty()) core::logger("app")->warn("readiness failed error=\"{}\"", failure);
        ok = failure.empty();
        std::lock_guard lock(probe->mutex);
        probe->ok = ok;
        probe->checked = std::chrono::steady_clock::now();
        probe->probing = false;
    }
    if (!ok) {
        co_return core::json_response(
            503, boost::json::object{{"status", "not_ready"}, {"error", "database unavailable"}});
    }
    co_return core::json_response(200, boost::json::object{{"status", "ready"}});
}

core::Task<core::Result<core::HttpResponse>> constant(core::HttpResponse response) {
    co_return response;
}

core::Task<core::Result<core::HttpResponse>> metrics_text(core::Metrics* metrics) {
    co_return core::HttpResponse{200, metrics->render(), "text/plain; version=0.0.4", {}};
}

/// /health, /health/live, /health/ready, /metrics: every role serves them.
std::vector<core::Route> ops_routes(pg::Pool& pool, core::Metrics& metrics) {
    using core::Access;
    using core::Method;
    auto ok = core::json_response(200, boost::json::object{{"status", "ok"}});
    return {
        {Method::get, "/health", Access::open, [ok](core::HttpRequest&) { return constant(ok); }},
        {Method::get, "/health/live", Access::open,
         [ok](core::HttpRequest&) { return constant(ok); }},
        {Method::get, "/health/ready", Access::open,
         [p = &pool, probe = std::make_shared<ReadyProbe>()](core::HttpRequest&) {
             return ready(p, probe.get());
         }},
        {Method::get, "/metrics", Access::open,
         [m = &metrics](core::HttpRequest&) { return metrics_text(m); }},
    };
}

asio::awaitable<void> drain(asio::io_context& io, transport::HttpServer& server,
                            std::chrono::seconds deadline) {
    server.stop_accepting();
    const auto until = std::chrono::steady_clock::now() + deadline;
    asio::steady_timer timer(io);
    while (server.in_flight() > 0 && std::chrono::steady_clock::now() < until) {
        timer.expires_after(20ms);
        co_await timer.async_wait(asio::use_awaitable);
    }
}

/// Runs a one-shot coroutine on a private io_context and returns its value.
template <class T>
T run_once(asio::io_context& io, asio::awaitable<T> task) {
    auto future = asio::co_spawn(io, std::move(task), asio::use_future);
    io.run();
    return future.get();
}

/// The single connection of a one-shot command (migrate, presence reset, reindex).
pg::Connection::Options command_connection(const Config& c, std::chrono::milliseconds timeout) {
    pg::Connection::Options o;
    o.dsn = c.postgres_dsn;
    o.connect_timeout = std::chrono::milliseconds(c.pg_connect_timeout_ms);
    o.statement_timeout = timeout;
    return o;
}

asio::awaitable<std::vector<std::string>> migrate_with(asio::io_context* io, Config config) {
    const auto o = command_connection(config, std::chrono::minutes(10));
    auto conn = co_await pg::Connection::connect(*io, o);
    co_return co_await pg::migrate(*conn, pg::embedded_migrations());
}

/// Single-node start: no socket exists yet, so automatic `online` left by a crash is stale.
asio::awaitable<std::int64_t> reset_presence_with(asio::io_context* io, Config config) {
    const auto o =
        command_connection(config, std::chrono::milliseconds(config.pg_statement_timeout_ms));
    auto conn = co_await pg::Connection::connect(*io, o);
    const org::ResetAutoPresence::Request request;
    auto r = co_await org::ResetAutoPresence::run(*conn, request);
    co_return r ? r->reset : 0;
}

/// `reindex`: fills messages.search_tokens for rows written before migration 004, then
/// users.search_tokens (005), in batches; safe to stop and run again.
asio::awaitable<std::int64_t> reindex_with(asio::io_context* io, Config config) {
    const auto o = command_connection(config, std::chrono::minutes(5));
    auto conn = co_await pg::Connection::connect(*io, o);
    std::int64_t total = 0, after = 0;
    for (;;) {
        const chat::UnindexedMessages::Request next{after, 500};
        auto batch = co_await chat::UnindexedMessages::run(*conn, next);
        if (!batch || batch->ids.empty()) break;
        after = batch->ids.back();
        chat::WriteSearchTokens::Request write;
        write.ids = batch->ids;
        for (const auto& body : batch->bodies) {
            std::string joined;
            for (const auto& t : search::index_tokens(body)) {
                if (!joined.empty()) joined += ' ';
                joined += t;
            }
            write.tokens.push_back(std::move(joined));
        }
        auto written = co_await chat::WriteSearchTokens::run(*conn, write);
        if (!written) break;
        total += written->written;
        core::logger("app")->info("reindex progress messages={}", total);
    }
    std::int64_t users = 0;
    for (;;) {  // users search tokens (migration 005; bulk-inserted users)
        const org::IndexUsers::Request next{500};
        auto batch = co_await org::IndexUsers::run(*conn, next);
        if (!batch || batch->indexed == 0) break;
        users += batch->indexed;
    }
    core::logger("app")->info("reindex users={}", users);
    co_return total;
}

std::string_view access_name(core::Access a) {
    switch (a) {
        case core::Access::open:
            return "open";
        case core::Access::authenticated:
            return "authenticated";
        case core::Access::admin_or_manager:
            return "admin_or_manager";
        case core::Access::internal:
            return "internal";
    }
    return "unknown";
}

/// Notes' attachment check in a role without files: nothing is attachable.
core::Task<core::Result<std::string>> no_attachments(const core::Principal&, std::string) {
    co_return core::forbidden("file access denied");
}

/// `<DATA_DIR>/../secrets/admin_password` (var/secrets/ by default), created 0600.
std::string write_admin_password(const Config& c, const std::string& password) {
    auto data = std::filesystem::absolute(c.data_dir).lexically_normal();
    if (data.filename().empty()) data = data.parent_path();  // "var/data/"
    const auto dir = data.parent_path() / "secrets";
    std::filesystem::create_directories(dir);
    const auto path = dir / "admin_password";
    // Never through a link planted there: the password would land (and fchmod act) elsewhere.
    const int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) throw std::runtime_error("cannot write " + path.string());
    ::fchmod(fd, 0600);  // also when the file was there with wider rights
    const std::string text = password + "\n";
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot write " + path.string());
    return path.string();
}

bool require_dsn(const Config& c) {
    if (c.postgres_dsn.empty()) {
        std::fprintf(stderr, "POSTGRES_DSN must be set (scripts/run.sh starts a local cluster)\n");
        return false;
    }
    return true;
}

auth::PasswordHasher make_hasher(const Config& c) {
    return auth::PasswordHasher(
        {static_cast<unsigned long long>(c.password_hash_ops), c.password_hash_memory_kib * 1024});
}

}  // namespace

int run_migrate(const Config& config) {
    if (!require_dsn(config)) return 2;
    asio::io_context io;
    auto applied = run_once(io, migrate_with(&io, config));
    auto log = core::logger("app");
    for (const auto& name : applied) log->info("migration applied name={}", name);
    log->info("migrations done applied={}", applied.size());
    return 0;
}

namespace {
asio::awaitable<org::OrgService::SeedAdminOutput> seed_with(org::OrgService* service,
                                                            org::OrgService::SeedAdminInput in) {
    co_return co_await service->seed_admin(std::move(in));
}
}  // namespace

int run_seed_admin(const Config& config) {
    if (!require_dsn(config)) return 2;
    asio::io_context io;
    pg::Pool pool(io, pool_options(config, config.postgres_dsn));
    data::Executor db(pool);
    core::SystemClock clock;
    auth::JwtCodec jwt(config.jwt_secret, std::chrono::minutes(config.jwt_ttl_minutes), clock);
    auto hasher = make_hasher(config);
    core::BlockingPool blocking(1);
    org::OrgService service(db, jwt, hasher, blocking, clock, {});
    org::OrgService::SeedAdminInput in{config.admin_tenant_id, config.admin_email,
                                       config.admin_name, config.admin_title,
                                       config.admin_password};
    auto out = run_once(io, seed_with(&service, std::move(in)));
    auto log = core::logger("app");
    log->info("admin ready tenant={} email={} user_id={} created={}", config.admin_tenant_id,
              config.admin_email, out.user_id, out.created);
    if (out.generated_password) {
        // Shown once, to a terminal only (never the log): output that is piped or redirected
        // may land in log storage, so then it goes to a file only its owner can read.
        if (::isatty(STDOUT_FILENO) == 1) {
            std::printf(
                "\n  Admin login: tenant_id=%s email=%s password=%s\n"
                "  (generated once; set ADMIN_PASSWORD and run seed-admin again to change it)\n\n",
                config.admin_tenant_id.c_str(), config.admin_email.c_str(),
                out.generated_password->c_str());
        } else {
            const auto path = write_admin_password(config, *out.generated_password);
            std::printf(
                "\n  Admin login: tenant_id=%s email=%s, generated password in %s (mode 0600)\n\n",
                config.admin_tenant_id.c_str(), config.admin_email.c_str(), path.c_str());
        }
        std::fflush(stdout);
    }
    return 0;
}

int run_reindex(const Config& config) {
    if (!require_dsn(config)) return 2;
    asio::io_context io;
    const auto total = run_once(io, reindex_with(&io, config));
    core::logger("app")->info("reindex done messages={}", total);
    return 0;
}

int run_server(const Config& config, const Role& role) {
    auto log = core::logger("app");
    if (!require_dsn(config)) return 2;
    if (role.name == "vectorman" && config.internal_api_token.empty()) {
        std::fprintf(stderr, "INTERNAL_API_TOKEN must be set for role vectorman\n");
        return 2;
    }
    if (role.name == "chat" && !config.vectorman_endpoint.empty() &&
        config.internal_api_token.empty()) {
        std::fprintf(stderr, "INTERNAL_API_TOKEN must be set with VECTORMAN_ENDPOINT\n");
        return 2;
    }
    if (config.dev() && config.jwt_secret == kDefaultJwtSecret) {
        log->warn(
            "JWT_SECRET is the public default: fine for APP_ENV=dev on a laptop, never "
            "anywhere else");
    }
    if (role.migrate_on_start) {
        asio::io_context once;
        auto applied = run_once(once, migrate_with(&once, config));
        log->info("migrations checked applied_now={}", applied.size());
        asio::io_context again;
        const auto reset = run_once(again, reset_presence_with(&again, config));
        log->info("presence reset stale_online={}", reset);
    }

    const int threads = config.io_threads > 0
                            ? config.io_threads
                            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    // One io_context per I/O thread (see transport::HttpServer); the first also runs the
    // acceptor, signals and the database pool's sockets.
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    std::vector<asio::io_context*> context_ptrs;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
    for (int i = 0; i < threads; ++i) {
        contexts.push_back(std::make_unique<asio::io_context>(1));
        context_ptrs.push_back(contexts.back().get());
        keep_running.push_back(asio::make_work_guard(*contexts.back()));
    }
    asio::io_context& io = *contexts.front();
    core::SystemClock clock;
    core::Metrics metrics;
    core::BlockingPool blocking(static_cast<std::size_t>(config.blocking_threads));

    pg::Pool primary(io, pool_options(config, config.postgres_dsn));
    std::unique_ptr<pg::Pool> replica;
    if (!config.postgres_read_dsn.empty()) {
        replica = std::make_unique<pg::Pool>(io, pool_options(config, config.postgres_read_dsn));
    }
    data::Executor db(primary, replica.get());
    metrics.add_gauge("msg_pg_pool_connections", "Open PostgreSQL connections (primary).",
                      [&] { return static_cast<double>(primary.size()); });
    metrics.add_gauge("msg_pg_pool_in_use", "PostgreSQL connections leased now (primary).",
                      [&] { return static_cast<double>(primary.in_use()); });
    metrics.add_gauge("msg_pg_pool_max", "PostgreSQL pool bound (primary).",
                      [&] { return static_cast<double>(primary.max_size()); });

    auth::JwtCodec jwt(config.jwt_secret, std::chrono::minutes(config.jwt_ttl_minutes), clock);
    auto hasher = make_hasher(config);
    // Password hashing has a pool of its own, bounded: a login flood is refused fast (503)
    // instead of stalling file I/O and thumbnails on the shared blocking pool.
    core::BlockingPool hashing(static_cast<std::size_t>(config.password_hash_threads),
                               static_cast<std::size_t>(config.password_hash_queue));
    org::OrgService org_service(
        db, jwt, hasher, hashing, clock,
        {config.login_per_email_per_minute, config.login_per_ip_per_minute});
    tenant::TenantService tenant_service(db, config.platform_tenant_id);
    bus::InprocBus bus;
    // Tokens are checked at the moment of use; changes revoke them on every node (issue 12).
    org::Credentials::Options credential_options;
    credential_options.max_sockets_per_user =
        static_cast<std::size_t>(config.ws_max_sockets_per_user);
    org::Credentials credentials(db, bus, clock, credential_options);
    org_service.on_credentials_changed(
        [&credentials](const std::string& tenant_id, std::int64_t user_id) {
            credentials.revoke_user(tenant_id, user_id);
        });
    tenant_service.on_active_changed(
        [&credentials](const std::string& tenant_id) { credentials.revoke_tenant(tenant_id); });
    chat::ChatService chat_service(db, bus, clock, metrics, {config.sends_per_user_per_second});
    session::SessionEvents session_events(bus);
    org_service.on_status_changed(
        [&session_events](const std::string& tenant_id, const org::StatusChange& change) {
            session_events.broadcast_tenant(tenant_id,
                                            session::status_changed_event(tenant_id, change));
        });
    session::SessionService session_service(db, session_events, org_service, clock,
                                            config.sends_per_user_per_second);
    // Files are built further down (where the role has files or notes); a note's attachments
    // are checked by them.
    std::unique_ptr<files::FilesService> files_service;
    notes::AttachmentCheck attachments = [&files_service](const core::Principal& sender,
                                                          std::string key) {
        return files_service ? files_service->attachable(sender, std::move(key))
                             : no_attachments(sender, std::move(key));
    };
    notes::NotesService notes_service(db, session_events, clock, config.sends_per_user_per_second,
                                      std::move(attachments));
    session::SessionHub session_hub(bus);
    session::Presence presence(db, session_events, io);

    // Vectors: in process where the role has them (vectorman, all); chat's rerank calls them
    // directly, or vectorman over HTTP when it runs apart (VECTORMAN_ENDPOINT).
    std::unique_ptr<Vectors> vectors;
    std::unique_ptr<chat::RelevanceScorer> remote;
    if (role.has(RouteGroup::vector) && config.vector_backend != "off") {
        vectors = std::make_unique<Vectors>(config, db, blocking);
        try {
            asio::io_context once;
            run_once(once, vectors->ensure());
        } catch (const std::exception& e) {
            log->error("vector index unavailable error=\"{}\"", e.what());
            if (role.name == "vectorman") return 2;
            vectors.reset();  // single node: serve without the vector hook
        }
    }
    if (vectors) {
        chat_service.set_relevance_scorer(&vectors->scorer());
    } else if (role.has(RouteGroup::chat) && !config.vectorman_endpoint.empty()) {
        remote = remote_scorer(config);
        chat_service.set_relevance_scorer(remote.get());
    }

    // Files: the S3 API when MINIO_ENDPOINT is set, else local disk under DATA_DIR/blobs with
    // its streamed /blobs routes on this server.
    transport::BeastHttpClient blob_http;
    std::unique_ptr<blob::BlobStore> blobs;
    blob::LocalBlobStore* local_blobs = nullptr;
    const bool has_files = role.has(RouteGroup::files) || role.has(RouteGroup::session);
    if (has_files && config.minio_endpoint.empty()) {
        blob::LocalBlobStore::Options o;
        o.dir = std::filesystem::path(config.data_dir) / "blobs";
        o.public_base_url = config.public_base_url;
        // URL signatures use a key derived from JWT_SECRET: no extra secret to configure.
        o.secret = blob::hmac_sha256_hex(config.jwt_secret, "msg_server blob urls");
        auto local = std::make_unique<blob::LocalBlobStore>(blocking, clock, std::move(o));
        local_blobs = local.get();
        blobs = std::move(local);
        asio::io_context once;
        run_once(once, blobs->ensure());
        files_service = std::make_unique<files::FilesService>(db, *blobs, chat_service, blocking);
    } else if (has_files) {
        const std::string scheme = config.minio_use_ssl ? "https://" : "http://";
        blob::S3BlobStore::Options o;
        o.endpoint = scheme + config.minio_endpoint;
        o.public_endpoint = config.minio_public_endpoint;
        o.bucket = config.minio_bucket;
        o.credentials = {config.minio_access_key, config.minio_secret_key, config.minio_region};
        blobs = std::make_unique<blob::S3BlobStore>(blob_http, clock, std::move(o));
        try {
            asio::io_context once;
            run_once(once, blobs->ensure());
        } catch (const std::exception& e) {
            log->error("blob store unavailable error=\"{}\"", e.what());
            return 2;
        }
        files_service = std::make_unique<files::FilesService>(db, *blobs, chat_service, blocking);
    }

    transport::Router router;
    router.add(ops_routes(primary, metrics));
    for (auto group : role.groups) {
        switch (group) {
            case RouteGroup::org:
                router.add(org::routes(org_service));
                break;
            case RouteGroup::tenant:
                router.add(tenant::routes(tenant_service));
                break;
            case RouteGroup::chat:
                router.add(chat::routes(chat_service));
                break;
            case RouteGroup::session:
                router.add(session::routes(session_service));
                router.add(notes::routes(notes_service));
                break;
            case RouteGroup::vector:
                if (vectors) router.add(vector::routes(vectors->service()));
                break;
            case RouteGroup::files:
                if (files_service) router.add(files::routes(*files_service));
                break;
        }
    }
    // The route table, at debug level: what this role serves (the authz matrix test reads it,
    // so a route without a matrix entry fails that test).
    for (const auto& r : router.routes()) {
        log->debug("route method={} path={} access={}", core::to_string(r.method), r.pattern,
                   access_name(r.access));
    }
    transport::Pipeline pipeline(router, jwt, metrics, {config.cors_allowed_origins});
    pipeline.set_internal_token(config.internal_api_token);
    pipeline.set_credentials(&credentials);

    transport::ServerOptions server_options;
    server_options.address = config.bind_address;
    server_options.port = role.port == PortSetting::session_port     ? config.session_port
                          : role.port == PortSetting::vectorman_port ? config.vectorman_port
                          : role.port == PortSetting::fileman_port   ? config.fileman_port
                                                                     : config.port;
    server_options.header_limit = config.http_header_limit;
    server_options.body_limit = config.http_body_limit;
    server_options.read_timeout = std::chrono::seconds(config.http_read_timeout_s);
    server_options.idle_timeout = std::chrono::seconds(config.http_idle_timeout_s);
    server_options.stream_deadline = std::chrono::seconds(config.upload_deadline_s);
    server_options.max_connections = static_cast<std::size_t>(config.max_connections);
    server_options.trusted_proxies = config.trusted_proxies;
    server_options.ws_frame_limit = config.ws_frame_limit;
    server_options.ws_queue_limit = config.ws_queue_limit;
    server_options.ws_ping_interval = std::chrono::seconds(config.ws_ping_interval_s);
    server_options.ws_idle_timeout = std::chrono::seconds(config.ws_idle_timeout_s);
    server_options.ws_frames_per_second = config.ws_frames_per_second;
    server_options.ws_bytes_per_second = config.ws_bytes_per_second;
    transport::HttpServer server(context_ptrs, pipeline, server_options);
    if (local_blobs && role.has(RouteGroup::files)) {
        server.add_stream_route(
            blob::local_blob_route(*local_blobs, blocking, config.max_upload_bytes));
    }
    chat::RoomHub hub(bus, io);
    for (auto group : role.groups) {
        std::vector<core::WsRoute> sockets;
        if (group == RouteGroup::chat) sockets = chat::ws_routes(chat_service, hub, &presence);
        if (group == RouteGroup::session) {
            sockets = session::ws_routes(session_service, session_hub, &presence);
        }
        for (auto& route : sockets) {
            log->debug("route method=WS path={} access={}", route.path, access_name(route.access));
            server.add_ws_route(std::move(route));
        }
    }
    metrics.add_gauge("msg_http_connections", "Open HTTP connections.",
                      [&] { return static_cast<double>(server.connections()); });
    metrics.add_gauge("msg_ws_connections", "Open WebSockets.",
                      [&] { return static_cast<double>(server.websockets()); });
    metrics.add_gauge("msg_ws_rooms", "Rooms this node is subscribed to.",
                      [&] { return static_cast<double>(hub.rooms()); });
    metrics.add_gauge("msg_ws_session_sockets", "Open /ws/session sockets on this node.",
                      [&] { return static_cast<double>(session_hub.sockets()); });
    metrics.add_gauge("msg_presence_users", "Users with an open socket on this node.",
                      [&] { return static_cast<double>(presence.users()); });

    const unsigned short port = server.start();
    log->info("listening role={} address={} port={} io_threads={}", role.name, config.bind_address,
              port, threads);
    std::fflush(stdout);

    queue::InprocQueue events;
    auto& dispatched = metrics.counter("msg_events_dispatched_total",
                                       "Outbox events handed to in-process consumers.");
    events.subscribe("message.created", [&dispatched](const queue::Event&) { dispatched.inc(); });
    if (vectors) {
        // Asynchronous indexing (never in the send path); a failure is retried by the relay.
        vector::VectorService& vs = vectors->service();
        events.subscribe_async("message.created",
                               [&vs](const queue::Event& e) { return vs.on_message_created(e); });
        asio::co_spawn(io, vectors->flush_every(io, config.vector_flush_s), asio::detached);
    }
    queue::OutboxRelay relay(primary, events, {});
    if (role.outbox_relay) asio::co_spawn(io, relay.run(io), asio::detached);

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        log->info("shutdown signal={} in_flight={}", signal, server.in_flight());
        relay.stop();
        asio::co_spawn(io, drain(io, server, std::chrono::seconds(config.shutdown_timeout_s)),
                       [&](std::exception_ptr) {
                           for (auto* c : context_ptrs) c->stop();
                       });
    });

    std::vector<std::thread> workers;
    for (int i = 1; i < threads; ++i) {
        workers.emplace_back([c = context_ptrs[static_cast<std::size_t>(i)]] { c->run(); });
    }
    io.run();
    for (auto& t : workers) t.join();
    if (vectors) {
        try {
            asio::io_context last;
            run_once(last, vectors->flush());
        } catch (const std::exception& e) {
            log->error("vector index flush at shutdown failed error=\"{}\"", e.what());
        }
    }
    blocking.stop();
    hashing.stop();
    log->info("stopped");
    return 0;
}

}  // namespace msg::app
