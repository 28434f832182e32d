#include "app/vectors.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <filesystem>

#include "app/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "transport/http_client.hpp"
#include "vector/embedder.hpp"
#include "vector/hnsw_index.hpp"
#include "vector/milvus_index.hpp"
#include "vector/service.hpp"

namespace msg::app {

namespace json = boost::json;

namespace {

/// chat::RelevanceScorer over a VectorService in this process.
class LocalScorer final : public chat::RelevanceScorer {
  public:
    explicit LocalScorer(vector::VectorService& service) : service_(service) {}
    core::Task<std::vector<std::pair<std::int64_t, double>>> similarity(
        const std::string& tenant_id, const std::string& query,
        const std::vector<std::int64_t>& message_ids) override {
        vector::SearchFilter filter;
        filter.message_ids = message_ids;
        const int k = static_cast<int>(message_ids.size());
        auto hits = co_await service_.search(tenant_id, query, filter, k);
        std::vector<std::pair<std::int64_t, double>> out;
        out.reserve(hits.size());
        for (const auto& h : hits) out.emplace_back(h.message_id, h.score);
        co_return out;
    }

  private:
    vector::VectorService& service_;
};

class RemoteScorer final : public chat::RelevanceScorer {
  public:
    RemoteScorer(std::string endpoint, std::string token)
        : url_(std::move(endpoint) + "/api/v1/vectors/messages/search"), token_(std::move(token)) {}
    core::Task<std::vector<std::pair<std::int64_t, double>>> similarity(
        const std::string& tenant_id, const std::string& query,
        const std::vector<std::int64_t>& message_ids) override {
        json::array ids;
        for (auto id : message_ids) ids.emplace_back(id);
        core::ClientRequest req;
        req.url = url_;
        req.timeout = std::chrono::milliseconds(2000);
        req.headers.emplace_back("Authorization", "Bearer " + token_);
        req.body = json::serialize(json::object{{"tenant_id", tenant_id},
                                                {"query", query},
                                                {"message_ids", ids},
                                                {"limit", message_ids.size()}});
        auto res = co_await http_.send(req);
        if (res.status != 200) {
            throw core::UnavailableException("vectorman answered " + std::to_string(res.status));
        }
        std::vector<std::pair<std::int64_t, double>> out;
        try {
            const auto body = json::parse(res.body).as_object();
            const auto& hit_ids = body.at("ids").as_array();
            const auto& scores = body.at("scores").as_array();
            for (std::size_t i = 0; i < hit_ids.size() && i < scores.size(); ++i) {
                out.emplace_back(hit_ids[i].to_number<std::int64_t>(),
                                 scores[i].to_number<double>());
            }
        } catch (const std::exception& e) {
            throw core::UnavailableException(std::string("vectorman answer: ") + e.what());
        }
        co_return out;
    }

  private:
    transport::BeastHttpClient http_;
    std::string url_;
    std::string token_;
};

}  // namespace

struct Vectors::Impl {
    transport::BeastHttpClient http;
    std::unique_ptr<vector::Embedder> embedder;
    std::unique_ptr<vector::VectorIndex> index;
    vector::HnswIndex* hnsw = nullptr;
    std::unique_ptr<vector::VectorService> service;
    std::unique_ptr<LocalScorer> scorer;
    boost::asio::steady_timer* flush_timer = nullptr;  // flush_every's, while it waits
    bool stop_flushing = false;
};

Vectors::Vectors(const Config& config, data::Executor& db, core::BlockingPool& blocking)
    : impl_(std::make_unique<Impl>()) {
    if (config.vector.embedding_endpoint.empty()) {
        impl_->embedder =
            std::make_unique<vector::HashedNgramEmbedder>(config.vector.dim, &blocking);
    } else {
        impl_->embedder = std::make_unique<vector::HttpEmbedder>(
            impl_->http, vector::HttpEmbedder::Options{
                             config.vector.embedding_endpoint, config.vector.embedding_model,
                             config.vector.embedding_api_key, config.vector.dim});
    }
    if (config.vector.backend == "milvus") {
        impl_->index = std::make_unique<vector::MilvusIndex>(
            impl_->http,
            vector::MilvusIndex::Options{config.vector.milvus_endpoint, config.vector.milvus_token,
                                         config.vector.milvus_collection, config.vector.dim});
    } else {
        vector::HnswIndex::Options o;
        o.dir = std::filesystem::path(config.data_dir) / "vectors";
        o.dimension = config.vector.dim;
        auto hnsw = std::make_unique<vector::HnswIndex>(blocking, o);
        impl_->hnsw = hnsw.get();
        impl_->index = std::move(hnsw);
    }
    impl_->service = std::make_unique<vector::VectorService>(db, *impl_->embedder, *impl_->index);
    impl_->scorer = std::make_unique<LocalScorer>(*impl_->service);
    core::logger("app")->info("vectors backend={} embedder={} dimension={}", impl_->index->name(),
                              config.vector.embedding_endpoint.empty() ? "hashed-ngram" : "http",
                              config.vector.dim);
}

Vectors::~Vectors() = default;

core::Task<void> Vectors::ensure() { co_await impl_->index->ensure(); }

core::Task<void> Vectors::flush() {
    if (!impl_->hnsw) co_return;
    const auto written = co_await impl_->hnsw->flush();
    if (written > 0) core::logger("vector")->debug("hnsw flushed tenants={}", written);
}

core::Task<void> Vectors::flush_every(boost::asio::io_context& io, std::chrono::seconds every) {
    if (!impl_->hnsw) co_return;
    boost::asio::steady_timer timer(io);
    impl_->flush_timer = &timer;
    while (!impl_->stop_flushing) {
        timer.expires_after(every);
        auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (ec || impl_->stop_flushing) break;
        try {
            co_await flush();
        } catch (const std::exception& e) {
            core::logger("vector")->error("hnsw flush failed error=\"{}\"", e.what());
        }
    }
    impl_->flush_timer = nullptr;
}

void Vectors::stop_flushing() {
    impl_->stop_flushing = true;
    if (impl_->flush_timer != nullptr) impl_->flush_timer->cancel();
}

vector::VectorService& Vectors::service() { return *impl_->service; }
chat::RelevanceScorer& Vectors::scorer() { return *impl_->scorer; }

std::unique_ptr<chat::RelevanceScorer> remote_scorer(const Config& config) {
    std::string endpoint = config.vector.vectorman_endpoint;
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    return std::make_unique<RemoteScorer>(std::move(endpoint), config.internal_api_token);
}

}  // namespace msg::app
