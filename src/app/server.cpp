#include "app/server.hpp"

#include "app/backends.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "app/commands.hpp"
#include "app/node.hpp"
#include "core/log.hpp"
#include "transport/http_server.hpp"
#include "transport/router.hpp"

namespace msg::app {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kDbmanBodyLimit = 64 * 1024 * 1024;

/// An io_context whose pending work can be destroyed early. Its destructor would do that only
/// when the context goes, after the Node: a coroutine still parked on a database reply at
/// shutdown (a presence update, a request) would then release its connection into a pool that
/// is already gone.
class IoContext : public asio::io_context {  // not final: Asio derives from it in a trait
  public:
    using asio::io_context::io_context;
    using asio::io_context::shutdown;  // protected in asio::execution_context
};

/// Settings a role cannot start without, beyond what load_config checks for every role.
bool check_role_config(const Config& config, const Role& role) {
    if (needs_pool(config, role) && !require_dsn(config)) return false;
    if (role.has(RouteGroup::dbman) && config.internal_api_token.empty()) {
        std::fprintf(stderr, "INTERNAL_API_TOKEN must be set for role dbman\n");
        return false;
    }
    if (role.serves_only(RouteGroup::vector) && config.internal_api_token.empty()) {
        std::fprintf(stderr, "INTERNAL_API_TOKEN must be set for role %.*s\n",
                     static_cast<int>(role.name.size()), role.name.data());
        return false;
    }
    if (role.has(RouteGroup::chat) && !role.uses(Backend::vector) &&
        !config.vector.vectorman_endpoint.empty() && config.internal_api_token.empty()) {
        std::fprintf(stderr, "INTERNAL_API_TOKEN must be set with VECTORMAN_ENDPOINT\n");
        return false;
    }
    return true;
}

asio::awaitable<void> drain(asio::io_context& io, transport::HttpServer& server, Node& node,
                            std::chrono::seconds deadline) {
    server.stop_accepting();
    // Rolling deploys: clients reconnect to another node and resume by seq.
    server.close_websockets(1001, "server shutting down");
    const auto until = std::chrono::steady_clock::now() + deadline;
    asio::steady_timer timer(io);
    // Requests, sockets and the node's background coroutines (relay pass, presence writes,
    // flusher) end before the contexts stop, or the deadline passes.
    while ((server.in_flight() > 0 || server.websockets() > 0 || node.background() > 0) &&
           std::chrono::steady_clock::now() < until) {
        timer.expires_after(20ms);
        co_await timer.async_wait(asio::use_awaitable);
    }
}

}  // namespace

int run_server(const Config& config, const Role& role) {
    auto log = core::logger("app");
    if (!check_role_config(config, role)) return 2;
    if (config.dev() && config.auth.jwt_secret == kDefaultJwtSecret) {
        log->warn(
            "JWT_SECRET is the public default: fine for APP_ENV=dev on a laptop, never "
            "anywhere else");
    }
    if (role.runs(Worker::migrate_on_start)) prepare_single_node(config);

    const int threads = config.io_threads > 0
                            ? config.io_threads
                            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    // One io_context per I/O thread (see transport::HttpServer); the first also runs the
    // acceptor, signals, timers and the database pool's sockets.
    std::vector<std::unique_ptr<IoContext>> contexts;
    std::vector<asio::io_context*> context_ptrs;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
    for (int i = 0; i < threads; ++i) {
        contexts.push_back(std::make_unique<IoContext>(1));
        context_ptrs.push_back(contexts.back().get());
        keep_running.push_back(asio::make_work_guard(*contexts.back()));
    }
    asio::io_context& io = *contexts.front();

    Node node(config, role, io);
    if (!node.build()) return 2;

    transport::Router router;
    router.add(node.routes());
    // The route table, at debug level: what this role serves (the authz matrix test reads it,
    // so a route without a matrix entry fails that test).
    for (const auto& r : router.routes()) {
        log->debug("route method={} path={} access={}", core::to_string(r.method), r.pattern,
                   core::to_string(r.access));
    }
    auto pipeline = node.pipeline(router);

    transport::ServerOptions server_options = config.server;
    server_options.port = config.ports.*role.port;
    if (role.has(RouteGroup::dbman)) {
        // A send batch (128 sends of up to 16 KiB, JSON-escaped) is far over a public
        // request's bound; dbman's callers are our own nodes.
        server_options.body_limit =
            std::max<std::size_t>(server_options.body_limit, kDbmanBodyLimit);
    }
    transport::HttpServer server(context_ptrs, *pipeline, server_options);
    for (auto& route : node.stream_routes()) server.add_stream_route(std::move(route));
    for (auto& route : node.ws_routes()) {
        log->debug("route method=WS path={} access={}", route.path, core::to_string(route.access));
        server.add_ws_route(std::move(route));
    }
    node.watch(server);

    const unsigned short port = server.start();
    log->info("listening role={} address={} port={} io_threads={}", role.name,
              server_options.address, port, threads);
    std::fflush(stdout);
    node.start_workers();

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        log->info("shutdown signal={} in_flight={}", signal, server.in_flight());
        node.stop_workers();
        asio::co_spawn(io, drain(io, server, node, config.shutdown_timeout),
                       [&](const std::exception_ptr&) {
                           for (auto* c : context_ptrs) c->stop();
                       });
    });

    std::vector<std::thread> workers;
    for (int i = 1; i < threads; ++i) {
        workers.emplace_back([c = context_ptrs[static_cast<std::size_t>(i)]] { c->run(); });
    }
    io.run();
    for (auto& t : workers) t.join();
    // The blocking pools first (their last jobs post into the contexts), then the pending
    // handlers and coroutine frames, while the node they point into lives; the sockets and
    // timers themselves are closed by their owners' destructors later.
    node.finish();
    for (auto& c : contexts) c->shutdown();
    log->info("stopped");
    return 0;
}

}  // namespace msg::app
