// BeastHttpClient's keep-alive over real sockets: a kept connection is reused, and one its
// server closed is noticed before a request goes out on it.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <thread>

#include "core/task.hpp"
#include "testing/co_test.hpp"
#include "testing/loopback_server.hpp"
#include "transport/http_client.hpp"

namespace msg::transport {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

core::Task<core::Result<core::HttpResponse>> hello(core::HttpRequest&) {
    co_return core::HttpResponse{200, "hello", "text/plain", {}};
}

std::vector<core::Route> hello_routes() {
    return {{core::Method::get, "/hello", core::Access::open, &hello}};
}

core::ClientRequest get(const std::string& url) {
    core::ClientRequest r;
    r.method = core::Method::get;
    r.url = url;
    return r;
}

/// A server that answers one request per connection with a keep-alive response and then
/// closes the connection anyway (as a server restarting, or one with a short idle timeout).
class OneShotServer {
  public:
    OneShotServer() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
        thread_ = std::thread([this] {
            while (accepted_ < 2) {
                asio::ip::tcp::socket s(io_);
                acceptor_.accept(s);
                ++accepted_;
                asio::streambuf request;
                asio::read_until(s, request, "\r\n\r\n");
                const std::string answer =
                    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok";
                asio::write(s, asio::buffer(answer));
                s.close();
            }
        });
    }
    ~OneShotServer() { thread_.join(); }
    std::string url() const {
        return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/x";
    }
    int accepted() const { return accepted_.load(); }

  private:
    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_;
    std::atomic<int> accepted_{0};
    std::thread thread_;
};

CO_TEST(HttpClientKeepAlive, ReusesTheConnectionOfTheLastResponse) {
    testing::LoopbackServer server(ctx.io, hello_routes());
    BeastHttpClient client(BeastHttpClient::Options{.keep_alive = true});
    const auto request = get(server.base_url() + "/hello");
    for (int i = 0; i < 3; ++i) {
        auto r = co_await client.send(request);
        EXPECT_EQ(r.status, 200u);
        EXPECT_EQ(r.body, "hello");
    }
    EXPECT_EQ(client.connections_made(), 1u);

    BeastHttpClient plain;  // without keep-alive: one connection per request
    for (int i = 0; i < 2; ++i) co_await plain.send(request);
    EXPECT_EQ(plain.connections_made(), 2u);
}

CO_TEST(HttpClientKeepAlive, AConnectionItsServerClosedIsNotUsedAgain) {
    OneShotServer server;
    BeastHttpClient client(BeastHttpClient::Options{.keep_alive = true});
    const auto request = get(server.url());
    auto first = co_await client.send(request);
    EXPECT_EQ(first.status, 200u);
    // The server's close reaches this side's kernel; the kept connection must not be used.
    for (int i = 0; i < 100 && server.accepted() < 1; ++i) std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(50ms);
    auto second = co_await client.send(request);
    EXPECT_EQ(second.status, 200u);
    EXPECT_EQ(second.body, "ok");
    EXPECT_EQ(client.connections_made(), 2u);
}

}  // namespace
}  // namespace msg::transport
