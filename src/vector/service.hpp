#pragma once

#include <mutex>
#include <set>
#include <string>

#include "core/task.hpp"
#include "vector/vector.hpp"

namespace msg::data {
class Executor;
}
namespace msg::queue {
struct Event;
}

namespace msg::vector {

/// Embeds and indexes messages and answers similarity queries, per tenant. Before a tenant's
/// first use in this process, what the index reports missing (VectorIndex::missing_since) is
/// re-embedded from the database. Backend failures throw core::UnavailableException.
class VectorService {
  public:
    VectorService(data::Executor& db, Embedder& embedder, VectorIndex& index);

    core::Task<void> index_message(const std::string& tenant_id, std::int64_t message_id,
                                   std::int64_t room_id, const std::string& text);
    core::Task<void> remove(const std::string& tenant_id, const std::vector<std::int64_t>& ids);
    core::Task<std::vector<VectorHit>> search(const std::string& tenant_id,
                                              const std::string& query, const SearchFilter& filter,
                                              int k);
    /// The outbox consumer of `message.created` (idempotent: an upsert by message id).
    core::Task<void> on_message_created(const queue::Event& event);

    VectorIndex& index() { return index_; }

  private:
    core::Task<void> catch_up(const std::string& tenant_id);

    data::Executor& db_;
    Embedder& embedder_;
    VectorIndex& index_;
    std::mutex mutex_;
    std::set<std::string> caught_up_;
};

}  // namespace msg::vector
