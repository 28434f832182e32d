#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "blob/store_router.hpp"
#include "tenant/dedicated.hpp"

namespace msg::core {
class Clock;
class HttpClient;
}  // namespace msg::core
namespace msg::data {
class Executor;
}

namespace msg::tenant {

/// blob::StoreRouter over the registry: a dedicated tenant with `dedicated_minio_endpoint` set
/// keeps its objects in its own S3 bucket (`dedicated_minio_bucket`, else the shared store's
/// bucket name, on that endpoint, with its own keys; `dedicated_minio_use_ssl` → https), every
/// other tenant in the shared store. Routes are cached for `ttl` and dropped by invalidate()
/// (the node calls it on the bus message `tenants:changed`); one store per distinct
/// endpoint+bucket+keys, whose bucket is made on first use. The registry is read through the
/// executor, so this works behind dbman too.
class TenantStores final : public blob::StoreRouter {
  public:
    struct Options {
        std::string default_bucket = "chat-files";
        std::chrono::milliseconds ttl{30'000};
    };
    TenantStores(data::Executor& db, core::HttpClient& http, const core::Clock& clock,
                 std::string_view secrets_key, blob::BlobStore& shared, Options options);

    core::Task<std::shared_ptr<blob::BlobStore>> store_for(std::string_view tenant) override;
    void invalidate(std::string_view tenant);
    void invalidate_all();

  private:
    struct Cached {
        std::shared_ptr<blob::BlobStore> store;  // null: the shared store
        std::chrono::steady_clock::time_point expires;
    };
    std::shared_ptr<blob::BlobStore> shared_store() const;

    data::Executor& db_;
    core::HttpClient& http_;
    const core::Clock& clock_;
    SecretBox box_;
    blob::BlobStore& shared_;
    Options options_;
    std::mutex mutex_;
    std::map<std::string, Cached, std::less<>> routes_;
    std::map<std::string, std::weak_ptr<blob::BlobStore>> stores_;  // by endpoint+bucket+keys
};

}  // namespace msg::tenant
