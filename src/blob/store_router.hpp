#pragma once

#include <memory>
#include <string_view>

#include "blob/blob_store.hpp"
#include "core/task.hpp"

namespace msg::blob {

/// Which store holds a tenant's objects: a dedicated tenant's own bucket
/// (`dedicated_minio_*`, seed §7.1) or the shared store. Implemented by tenant::TenantStores;
/// without one every tenant uses the shared store.
class StoreRouter {
  public:
    virtual ~StoreRouter() = default;
    /// Throws core::UnavailableException when the tenant's settings or its store cannot be
    /// reached. The store stays valid while the pointer is held, even after the tenant changes.
    virtual core::Task<std::shared_ptr<BlobStore>> store_for(std::string_view tenant) = 0;
};

}  // namespace msg::blob
