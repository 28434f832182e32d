#include "tenant/stores.hpp"

#include "blob/s3_store.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "data/executor.hpp"
#include "tenant/operations.hpp"

namespace msg::tenant {

TenantStores::TenantStores(data::Executor& db, core::HttpClient& http, const core::Clock& clock,
                           std::string_view secrets_key, blob::BlobStore& shared, Options options)
    : db_(db),
      http_(http),
      clock_(clock),
      box_(secrets_key),
      shared_(shared),
      options_(std::move(options)) {}

std::shared_ptr<blob::BlobStore> TenantStores::shared_store() const {
    return {std::shared_ptr<void>(), &shared_};  // not owned: the node's store
}

core::Task<std::shared_ptr<blob::BlobStore>> TenantStores::store_for(std::string_view tenant) {
    const auto now = clock_.steady_now();
    {
        std::lock_guard lock(mutex_);
        if (auto it = routes_.find(tenant); it != routes_.end() && it->second.expires > now) {
            co_return it->second.store ? it->second.store : shared_store();
        }
    }
    ListTenants::Request req;
    req.only = std::string(tenant);
    auto found = co_await db_.run<ListTenants>(std::move(req));
    if (!found) throw core::UnavailableException("tenant registry: " + found.error().message);
    if (found->items.empty()) co_return shared_store();  // no such tenant: nothing cached
    Tenant t = std::move(found->items.front());
    std::shared_ptr<blob::BlobStore> store;
    if (t.deployment_mode == "dedicated" && !t.dedicated_minio_endpoint.empty()) {
        if (auto error = open_secrets(box_, t)) {
            core::logger("tenant")->error(
                "dedicated store settings unreadable tenant={} error=\"{}\"", t.tenant_id,
                error->message);
            throw core::UnavailableException("tenant store unavailable");
        }
        blob::S3BlobStore::Options o;
        o.endpoint =
            (t.dedicated_minio_use_ssl ? "https://" : "http://") + t.dedicated_minio_endpoint;
        o.bucket =
            t.dedicated_minio_bucket.empty() ? options_.default_bucket : t.dedicated_minio_bucket;
        o.credentials.access_key = t.dedicated_minio_access_key;
        o.credentials.secret_key = t.dedicated_minio_secret_key;
        const std::string key = o.endpoint + '\n' + o.bucket + '\n' + o.credentials.access_key +
                                '\n' + o.credentials.secret_key;
        bool made = false;
        {
            std::lock_guard lock(mutex_);
            store = stores_[key].lock();
            if (!store) {
                store = std::make_shared<blob::S3BlobStore>(http_, clock_, std::move(o));
                made = true;
            }
        }
        if (made) {
            co_await store->ensure();  // throws UnavailableException: nothing is cached then
            std::lock_guard lock(mutex_);
            stores_[key] = store;
            for (auto it = stores_.begin(); it != stores_.end();) {
                it = it->second.expired() ? stores_.erase(it) : std::next(it);
            }
        }
    }
    std::lock_guard lock(mutex_);
    routes_[std::string(tenant)] = Cached{store, now + options_.ttl};
    co_return store ? store : shared_store();
}

void TenantStores::invalidate(std::string_view tenant) {
    std::lock_guard lock(mutex_);
    if (auto it = routes_.find(tenant); it != routes_.end()) routes_.erase(it);
}

void TenantStores::invalidate_all() {
    std::lock_guard lock(mutex_);
    routes_.clear();
}

}  // namespace msg::tenant
