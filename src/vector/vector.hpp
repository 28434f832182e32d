#pragma once

// The vector hook (ARCHITECTURE §9): an Embedder turns text into a vector, a VectorIndex keeps
// one set of message vectors per tenant and answers nearest neighbours. No Beast, no hnswlib,
// no HTTP in this header.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/task.hpp"

namespace msg::vector {

using Vector = std::vector<float>;

struct VectorItem {
    std::int64_t message_id = 0;
    std::int64_t room_id = 0;
    Vector vector;
};

struct VectorHit {
    std::int64_t message_id = 0;
    std::int64_t room_id = 0;
    float score = 0;  // cosine similarity, higher is closer
};

/// Empty lists mean "any". Both set: both must hold.
struct SearchFilter {
    std::vector<std::int64_t> room_ids;
    std::vector<std::int64_t> message_ids;
};

/// Infrastructure failures throw core::UnavailableException (a consumer retries, a route
/// answers 503).
class Embedder {
  public:
    virtual ~Embedder() = default;
    virtual std::size_t dimension() const = 0;
    /// One L2-normalised vector per text, in order.
    virtual core::Task<std::vector<Vector>> embed(const std::vector<std::string>& texts) = 0;
};

class VectorIndex {
  public:
    virtual ~VectorIndex() = default;
    virtual std::string_view name() const = 0;
    /// Creates what the backend needs (directories; a collection with its index, loaded).
    virtual core::Task<void> ensure() = 0;
    /// Insert or replace by message id.
    virtual core::Task<void> upsert(const std::string& tenant_id,
                                    const std::vector<VectorItem>& items) = 0;
    /// Missing ids are ignored.
    virtual core::Task<void> remove(const std::string& tenant_id,
                                    const std::vector<std::int64_t>& message_ids) = 0;
    /// The k closest items of the tenant that pass the filter, closest first.
    virtual core::Task<std::vector<VectorHit>> search(const std::string& tenant_id,
                                                      const Vector& query,
                                                      const SearchFilter& filter, int k) = 0;
    /// What this process must re-index from the database before the tenant's index is
    /// complete: nothing (nullopt; e.g. a durable server), or every message with an id above
    /// the value (0 = all: the local index was missing or corrupt). Asked once per tenant.
    virtual core::Task<std::optional<std::int64_t>> missing_since(const std::string& tenant_id) = 0;
};

/// In place; a zero vector stays zero.
void l2_normalize(Vector& v);
float dot(const Vector& a, const Vector& b);

}  // namespace msg::vector
