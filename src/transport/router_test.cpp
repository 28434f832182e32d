#include <gtest/gtest.h>

#include "transport/error_response.hpp"
#include "transport/router.hpp"

namespace msg::transport {
namespace {

using core::Access;
using core::Method;

core::Route route(Method m, std::string pattern) {
    return core::Route{m, std::move(pattern), Access::open, nullptr};
}

Router make_router() {
    Router r;
    r.add(route(Method::get, "/health"));
    r.add(route(Method::patch, "/api/v1/users/:id/status"));
    r.add(route(Method::get, "/api/v1/rooms/:id/messages/:messageId/readers"));
    r.add(route(Method::get, "/api/v1/rooms/:id/read"));
    r.add(route(Method::post, "/api/v1/rooms/:id/read"));
    r.add(route(Method::get, "/api/v1/rooms/unread-counts"));
    r.add(route(Method::get, "/api/v1/rooms/:id/unread-count"));
    return r;
}

TEST(Router, MatchesLiteralRoutes) {
    auto r = make_router();
    auto m = r.match(Method::get, "/health");
    ASSERT_EQ(m.outcome, Router::Outcome::found);
    EXPECT_EQ(m.route->pattern, "/health");
    EXPECT_TRUE(m.params.empty());
}

TEST(Router, ExtractsParameters) {
    auto r = make_router();
    auto m = r.match(Method::get, "/api/v1/rooms/12/messages/99/readers");
    ASSERT_EQ(m.outcome, Router::Outcome::found);
    ASSERT_EQ(m.params.size(), 2u);
    EXPECT_EQ(m.params[0], (std::pair<std::string, std::string>{"id", "12"}));
    EXPECT_EQ(m.params[1], (std::pair<std::string, std::string>{"messageId", "99"}));
}

TEST(Router, LiteralSegmentsBeatParameters) {
    Router r;
    r.add(route(Method::get, "/api/v1/rooms/:id"));
    r.add(route(Method::get, "/api/v1/rooms/unread-counts"));
    auto m = r.match(Method::get, "/api/v1/rooms/unread-counts");
    ASSERT_EQ(m.outcome, Router::Outcome::found);
    EXPECT_EQ(m.route->pattern, "/api/v1/rooms/unread-counts");
    EXPECT_EQ(r.match(Method::get, "/api/v1/rooms/7").route->pattern, "/api/v1/rooms/:id");
}

TEST(Router, SelectsByMethod) {
    auto r = make_router();
    EXPECT_EQ(r.match(Method::get, "/api/v1/rooms/1/read").route->method, Method::get);
    EXPECT_EQ(r.match(Method::post, "/api/v1/rooms/1/read").route->method, Method::post);
}

TEST(Router, HeadMatchesGetRoutes) {
    auto r = make_router();
    auto m = r.match(Method::head, "/health");
    ASSERT_EQ(m.outcome, Router::Outcome::found);
    EXPECT_EQ(m.route->method, Method::get);
    EXPECT_EQ(r.match(Method::head, "/api/v1/users/1/status").outcome,
              Router::Outcome::method_not_allowed);
}

TEST(Router, NotFoundAndMethodNotAllowed) {
    auto r = make_router();
    EXPECT_EQ(r.match(Method::get, "/nope").outcome, Router::Outcome::not_found);
    EXPECT_EQ(r.match(Method::get, "/health/extra").outcome, Router::Outcome::not_found);
    EXPECT_EQ(r.match(Method::get, "/api/v1/users").outcome, Router::Outcome::not_found);
    EXPECT_EQ(r.match(Method::post, "/health").outcome, Router::Outcome::method_not_allowed);
    EXPECT_EQ(r.match(Method::get, "/api/v1/users/5/status").outcome,
              Router::Outcome::method_not_allowed);
}

TEST(Router, ToleratesSlashes) {
    auto r = make_router();
    EXPECT_EQ(r.match(Method::get, "/health/").outcome, Router::Outcome::found);
    EXPECT_EQ(r.match(Method::get, "//health").outcome, Router::Outcome::found);
    EXPECT_EQ(r.match(Method::get, "/").outcome, Router::Outcome::not_found);
    EXPECT_EQ(r.match(Method::get, "").outcome, Router::Outcome::not_found);
}

TEST(Router, RejectsRelativePatterns) {
    Router r;
    EXPECT_THROW(r.add(route(Method::get, "health")), std::invalid_argument);
}

TEST(ErrorResponse, MapsEveryCode) {
    EXPECT_EQ(http_status(core::ErrorCode::invalid_argument), 400u);
    EXPECT_EQ(http_status(core::ErrorCode::unauthorized), 401u);
    EXPECT_EQ(http_status(core::ErrorCode::forbidden), 403u);
    EXPECT_EQ(http_status(core::ErrorCode::not_found), 404u);
    EXPECT_EQ(http_status(core::ErrorCode::conflict), 409u);
    EXPECT_EQ(http_status(core::ErrorCode::payload_too_large), 413u);
    EXPECT_EQ(http_status(core::ErrorCode::too_many_requests), 429u);
    EXPECT_EQ(http_status(core::ErrorCode::unavailable), 503u);
    auto res = error_response({core::ErrorCode::too_many_requests, "too many requests", 7});
    EXPECT_EQ(res.status, 429u);
    EXPECT_EQ(res.body, R"({"error":"too many requests"})");
    ASSERT_EQ(res.headers.size(), 1u);
    EXPECT_EQ(res.headers[0].second, "7");
}

}  // namespace
}  // namespace msg::transport
