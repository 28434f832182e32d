#include "testing/loopback_server.hpp"

#include "auth/jwt.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "transport/http_server.hpp"
#include "transport/pipeline.hpp"
#include "transport/router.hpp"

namespace msg::testing {

struct LoopbackServer::Impl {
    core::SystemClock clock;
    auth::JwtCodec jwt{"loopback-server-unused-secret-0123456789", std::chrono::minutes(1), clock};
    core::Metrics metrics;
    transport::Router router;
    std::unique_ptr<transport::Pipeline> pipeline;
    std::unique_ptr<transport::HttpServer> server;
    unsigned short port = 0;
};

LoopbackServer::LoopbackServer(boost::asio::io_context& io, std::vector<core::Route> routes,
                               std::size_t body_limit, std::string internal_token)
    : impl_(std::make_unique<Impl>()) {
    impl_->router.add(std::move(routes));
    impl_->pipeline = std::make_unique<transport::Pipeline>(
        impl_->router, impl_->jwt, impl_->metrics, transport::CorsOptions{});
    impl_->pipeline->set_internal_token(std::move(internal_token));
    transport::ServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.body_limit = body_limit;
    impl_->server = std::make_unique<transport::HttpServer>(
        std::vector<boost::asio::io_context*>{&io}, *impl_->pipeline, o);
    impl_->port = impl_->server->start();
}

LoopbackServer::~LoopbackServer() { impl_->server->stop_accepting(); }

unsigned short LoopbackServer::port() const { return impl_->port; }

std::string LoopbackServer::base_url() const {
    return "http://127.0.0.1:" + std::to_string(impl_->port);
}

}  // namespace msg::testing
