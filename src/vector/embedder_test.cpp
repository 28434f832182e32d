#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>

#include "testing/co_test.hpp"
#include "testing/loopback_server.hpp"
#include "transport/http_client.hpp"
#include "vector/embedder.hpp"

namespace msg::vector {
namespace {

namespace json = boost::json;

float norm(const Vector& v) { return std::sqrt(dot(v, v)); }

TEST(HashedNgramEmbedder, IsDeterministicNormalisedAndLexical) {
    HashedNgramEmbedder e(256);
    const auto a = e.embed_one("서버에서 배포를 시작합니다");
    EXPECT_EQ(a.size(), 256u);
    EXPECT_NEAR(norm(a), 1.0f, 1e-5);
    EXPECT_EQ(a, e.embed_one("서버에서 배포를 시작합니다"));
    // Same stems with other particles are closer than an unrelated sentence.
    const auto particles = e.embed_one("서버 배포 시작");
    const auto lunch = e.embed_one("점심 메뉴는 뭐예요");
    EXPECT_GT(dot(a, particles), dot(a, lunch) + 0.2f);
    // NFKC + case folding, and whitespace runs, before hashing.
    EXPECT_EQ(e.embed_one("ＳＥＲＶＥＲ  Deploy"), e.embed_one("server deploy"));
    // Nothing but whitespace: the zero vector (similar to nothing).
    const auto blank = e.embed_one(" \n ");
    EXPECT_EQ(norm(blank), 0.0f);
    EXPECT_EQ(e.embed_one("").size(), 256u);
}

TEST(HashedNgramEmbedder, DimensionIsAParameter) {
    HashedNgramEmbedder e(64);
    EXPECT_EQ(e.dimension(), 64u);
    EXPECT_EQ(e.embed_one("hello world").size(), 64u);
}

/// An OpenAI-compatible /v1/embeddings stand-in on loopback: real HTTP through
/// BeastHttpClient. It answers out of order (by `index`) with a vector of `dim` values.
struct FakeEmbeddings {
    FakeEmbeddings(boost::asio::io_context& io, std::size_t dim)
        : dim(dim),
          server(io, {core::Route{core::Method::post, "/v1/embeddings", core::Access::open,
                                  [this](core::HttpRequest& req) { return serve(this, req); }}}) {}

    static core::Task<core::Result<core::HttpResponse>> serve(FakeEmbeddings* self,
                                                              core::HttpRequest& req) {
        self->last_authorization = req.authorization;
        const auto body = json::parse(req.body).as_object();
        self->last_model = std::string(body.at("model").as_string());
        const auto& input = body.at("input").as_array();
        json::array data;
        for (std::size_t i = input.size(); i-- > 0;) {
            json::array v;
            for (std::size_t d = 0; d < self->dim; ++d)
                v.emplace_back(d == i % self->dim ? 3.0 : 0.0);
            data.push_back(json::object{{"index", i}, {"embedding", v}});
        }
        co_return core::json_response(200, json::object{{"data", data}});
    }

    std::size_t dim;
    std::string last_authorization, last_model;
    ::msg::testing::LoopbackServer server;  // last: stops accepting before the rest goes
};

CO_TEST(HttpEmbedder, CallsAnOpenAiCompatibleEndpoint) {
    FakeEmbeddings fake(ctx.io, 4);
    transport::BeastHttpClient http;
    HttpEmbedder e(
        http, {"http://127.0.0.1:" + std::to_string(fake.server.port()) + "/v1", "tiny", "k3y", 4});
    const std::vector<std::string> texts{"a", "b"};
    auto vectors = co_await e.embed(texts);
    CO_ASSERT(vectors.size() == 2);
    EXPECT_EQ(vectors[0], (Vector{1, 0, 0, 0}));  // placed by index, normalised
    EXPECT_EQ(vectors[1], (Vector{0, 1, 0, 0}));
    EXPECT_EQ(fake.last_model, "tiny");
    EXPECT_EQ(fake.last_authorization, "Bearer k3y");

    // Another dimension than configured is refused, not truncated.
    HttpEmbedder wrong(http,
                       {"http://127.0.0.1:" + std::to_string(fake.server.port()), "tiny", "", 8});
    bool refused = false;
    try {
        co_await wrong.embed(texts);
    } catch (const core::UnavailableException&) {
        refused = true;
    }
    EXPECT_TRUE(refused);
    // Nobody listening: an UnavailableException, not a hang or a crash.
    HttpEmbedder down(http, {"http://127.0.0.1:1", "tiny", "", 4});
    bool unavailable = false;
    try {
        co_await down.embed(texts);
    } catch (const core::UnavailableException&) {
        unavailable = true;
    }
    EXPECT_TRUE(unavailable);
}

}  // namespace
}  // namespace msg::vector
