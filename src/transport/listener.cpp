#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <string_view>

#include "core/rate_limiter.hpp"
#include "transport/http_server.hpp"
#include "transport/server_impl.hpp"

namespace msg::transport {

std::unique_ptr<AddressSlots::Slot> AddressSlots::take(const std::string& key) {
    {
        std::lock_guard lock(mutex_);
        auto& n = open_[key];
        if (n >= limit_) return nullptr;
        ++n;
    }
    return std::make_unique<Slot>(shared_from_this(), key);
}

AddressSlots::Slot::~Slot() {
    std::lock_guard lock(owner_->mutex_);
    auto it = owner_->open_.find(key_);
    if (it != owner_->open_.end() && --it->second == 0) owner_->open_.erase(it);
}

namespace {

/// Refused connections are logged at most once a second, with how many since the last line: a
/// host held at its cap must not be able to flood the log.
class RefusalLog {
  public:
    void refused(spdlog::logger& log, std::string_view reason, std::size_t limit) {
        ++count_;
        const auto now = std::chrono::steady_clock::now();
        if (now - last_ < std::chrono::seconds(1)) return;
        log.warn("connection refused reason={} limit={} refused={}", reason, limit, count_);
        count_ = 0;
        last_ = now;
    }

  private:
    std::size_t count_ = 0;
    std::chrono::steady_clock::time_point last_{};
};

asio::awaitable<void> accept_loop(std::shared_ptr<HttpServer::Impl> s) {
    RefusalLog refusals;  // this coroutine's alone: one acceptor, one thread
    for (;;) {
        tcp::socket socket(s->next_context());
        auto [ec] = co_await s->acceptor.async_accept(socket, kTuple);
        if (ec) {
            if (ec == asio::error::operation_aborted || !s->acceptor.is_open()) co_return;
            // EMFILE and friends: log and keep going rather than spin.
            s->log->warn("accept failed error=\"{}\"", ec.message());
            continue;
        }
        if (s->connections.load() >= s->options.max_connections) {
            refusals.refused(*s->log, "max_connections", s->options.max_connections);
            continue;  // socket closes here
        }
        // One address may not hold the server's connections (a trusted proxy speaks for many).
        std::unique_ptr<AddressSlots::Slot> slot;
        if (s->options.max_connections_per_address > 0) {
            boost::system::error_code pec;
            const auto peer = socket.remote_endpoint(pec);
            if (pec) continue;  // already gone
            const std::string ip = peer.address().to_string();
            if (!is_trusted_proxy(s->options, ip)) {
                slot = s->address_slots->take(core::rate_key_for_ip(ip));
                if (!slot) {
                    refusals.refused(*s->log, "max_connections_per_address",
                                     s->options.max_connections_per_address);
                    continue;  // socket closes here
                }
            }
        }
        ++s->connections;
        auto ex = socket.get_executor();
        asio::co_spawn(ex, serve_connection(std::move(socket), s, std::move(slot)), asio::detached);
    }
}

}  // namespace

HttpServer::HttpServer(std::vector<asio::io_context*> contexts, Pipeline& pipeline,
                       ServerOptions options)
    : impl_(std::make_shared<Impl>(std::move(contexts), pipeline, std::move(options))) {}

HttpServer::~HttpServer() = default;

unsigned short HttpServer::start() {
    auto& a = impl_->acceptor;
    tcp::endpoint ep(asio::ip::make_address(impl_->options.address), impl_->options.port);
    a.open(ep.protocol());
    a.set_option(asio::socket_base::reuse_address(true));
    a.bind(ep);
    a.listen(asio::socket_base::max_listen_connections);
    asio::co_spawn(a.get_executor(), accept_loop(impl_), asio::detached);
    return a.local_endpoint().port();
}

void HttpServer::stop_accepting() {
    impl_->draining = true;
    asio::post(impl_->acceptor.get_executor(), [impl = impl_] {
        boost::system::error_code ec;
        impl->acceptor.close(ec);
    });
}

std::size_t HttpServer::in_flight() const { return impl_->in_flight.load(); }
std::size_t HttpServer::connections() const { return impl_->connections.load(); }
std::size_t HttpServer::websockets() const { return impl_->websockets.size(); }

void HttpServer::close_websockets(unsigned short code, const std::string& reason) {
    impl_->websockets.close_all(code, reason);
}

void HttpServer::add_ws_route(core::WsRoute route) { impl_->ws_routes.push_back(std::move(route)); }

void HttpServer::add_stream_route(core::StreamRoute route) {
    impl_->stream_routes.push_back(std::move(route));
}

}  // namespace msg::transport
