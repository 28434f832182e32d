#include "vector/service.hpp"

#include <boost/json.hpp>

#include "core/error.hpp"
#include "core/log.hpp"
#include "data/executor.hpp"
#include "queue/event_queue.hpp"
#include "vector/operations.hpp"

namespace msg::vector {

namespace json = boost::json;

VectorService::VectorService(data::Executor& db, Embedder& embedder, VectorIndex& index)
    : db_(db), embedder_(embedder), index_(index) {}

core::Task<void> VectorService::catch_up(const std::string& tenant_id) {
    {
        std::lock_guard lock(mutex_);
        if (!caught_up_.insert(tenant_id).second) co_return;
    }
    auto since = co_await index_.missing_since(tenant_id);
    if (!since) co_return;
    std::int64_t after = *since, total = 0;
    try {
        for (;;) {
            auto batch = co_await db_.run<MessagesToIndex>(tenant_id, after, 500);
            if (!batch) throw core::UnavailableException(batch.error().message);
            if (batch->ids.empty()) break;
            auto vectors = co_await embedder_.embed(batch->bodies);
            std::vector<VectorItem> items;
            for (std::size_t i = 0; i < batch->ids.size(); ++i) {
                items.push_back({batch->ids[i], batch->room_ids[i], std::move(vectors[i])});
            }
            co_await index_.upsert(tenant_id, items);
            after = batch->ids.back();
            total += static_cast<std::int64_t>(items.size());
        }
    } catch (...) {
        std::lock_guard lock(mutex_);
        caught_up_.erase(tenant_id);  // the next use tries again
        throw;
    }
    core::logger("vector")->info("vector index caught up tenant={} messages={} from_id={}",
                                 tenant_id, total, *since);
}

core::Task<void> VectorService::index_message(const std::string& tenant_id, std::int64_t message_id,
                                              std::int64_t room_id, const std::string& text) {
    co_await catch_up(tenant_id);
    const std::vector<std::string> texts{text};
    auto vectors = co_await embedder_.embed(texts);
    const std::vector<VectorItem> items{{message_id, room_id, std::move(vectors.front())}};
    co_await index_.upsert(tenant_id, items);
}

core::Task<void> VectorService::remove(const std::string& tenant_id,
                                       const std::vector<std::int64_t>& ids) {
    co_await catch_up(tenant_id);
    co_await index_.remove(tenant_id, ids);
}

core::Task<std::vector<VectorHit>> VectorService::search(const std::string& tenant_id,
                                                         const std::string& query,
                                                         const SearchFilter& filter, int k) {
    co_await catch_up(tenant_id);
    const std::vector<std::string> texts{query};
    auto vectors = co_await embedder_.embed(texts);
    co_return co_await index_.search(tenant_id, vectors.front(), filter, k);
}

core::Task<void> VectorService::on_message_created(const queue::Event& event) {
    std::int64_t id = 0, room_id = 0;
    std::string body;
    try {
        const auto payload = json::parse(event.payload).as_object();
        id = payload.at("id").to_number<std::int64_t>();
        room_id = payload.at("room_id").to_number<std::int64_t>();
        body = std::string(payload.at("body").as_string());
    } catch (const std::exception& e) {
        // A payload that can never be indexed is dropped (retrying would not help).
        core::logger("vector")->error("message.created unreadable outbox_id={} error=\"{}\"",
                                      event.id, e.what());
        co_return;
    }
    co_await index_message(event.tenant_id, id, room_id, body);
}

}  // namespace msg::vector
