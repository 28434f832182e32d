#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "core/blocking.hpp"
#include "vector/vector.hpp"

namespace msg::vector {

/// VectorIndex on hnswlib (Debian `libhnswlib-dev`): one HNSW graph per tenant over inner
/// product of L2-normalised vectors (= cosine), grown by doubling. All graph work runs on the
/// BlockingPool, never on an I/O thread.
///
/// Persistence: flush() writes each changed tenant as `<dir>/<hex tenant>.hnsw` plus a
/// `.meta` sidecar (format version, dimension, highest message id, FNV-1a checksum of the
/// graph file, message → room pairs), each to a temp file renamed into place. A tenant whose
/// files are missing, mismatched or fail the checksum starts empty and reports
/// missing_since = 0 (rebuild from the database); a good one reports its highest id minus a
/// slack, because vectors indexed after the last flush are lost in a crash.
class HnswIndex final : public VectorIndex {
  public:
    struct Options {
        std::filesystem::path dir;
        std::size_t dimension = 256;
        std::size_t initial_capacity = 1024;
        std::int64_t catch_up_slack = 1000;  // ids below the saved maximum re-indexed on load
    };
    HnswIndex(core::BlockingPool& blocking, Options options);
    ~HnswIndex() override;

    std::string_view name() const override { return "hnsw"; }
    core::Task<void> ensure() override;
    core::Task<void> upsert(const std::string& tenant_id,
                            const std::vector<VectorItem>& items) override;
    core::Task<void> remove(const std::string& tenant_id,
                            const std::vector<std::int64_t>& message_ids) override;
    core::Task<std::vector<VectorHit>> search(const std::string& tenant_id, const Vector& query,
                                              const SearchFilter& filter, int k) override;
    core::Task<std::optional<std::int64_t>> missing_since(const std::string& tenant_id) override;

    /// Writes every tenant changed since its last flush. Returns how many were written.
    core::Task<std::size_t> flush();
    /// Drops the in-memory graphs (tests: the next use loads from disk).
    void forget_loaded();

    struct Tenant;

  private:
    core::Task<std::shared_ptr<Tenant>> tenant(const std::string& tenant_id);

    core::BlockingPool& blocking_;
    Options options_;
    std::mutex mutex_;
    std::map<std::string, std::shared_ptr<Tenant>> tenants_;
};

}  // namespace msg::vector
