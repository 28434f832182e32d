#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "core/describe.hpp"
#include "core/error.hpp"

namespace msg::tenant {

struct Tenant {
    std::string tenant_id;
    std::string name;
    std::string deployment_mode = "shared";
    std::string dedicated_dsn;  // secret: never returned
    std::string dedicated_redis_addr;
    std::string dedicated_lavinmq_url;
    std::string dedicated_minio_endpoint;
    std::string dedicated_minio_access_key;
    std::string dedicated_minio_secret_key;  // secret: never returned
    std::string dedicated_minio_bucket;
    bool dedicated_minio_use_ssl = false;
    std::int64_t user_count_threshold = 200;
    bool is_active = true;
    std::string created_at;
    std::string updated_at;
};
MSG_DESCRIBE_STRUCT(Tenant, (),
                    (tenant_id, name, deployment_mode, dedicated_dsn, dedicated_redis_addr,
                     dedicated_lavinmq_url, dedicated_minio_endpoint, dedicated_minio_access_key,
                     dedicated_minio_secret_key, dedicated_minio_bucket, dedicated_minio_use_ssl,
                     user_count_threshold, is_active, created_at, updated_at))

/// A partial update: only the fields present are changed.
struct TenantPatch {
    std::optional<std::string> name, deployment_mode, dedicated_dsn, dedicated_redis_addr,
        dedicated_lavinmq_url, dedicated_minio_endpoint, dedicated_minio_access_key,
        dedicated_minio_secret_key, dedicated_minio_bucket;
    std::optional<bool> dedicated_minio_use_ssl;
    std::optional<std::int64_t> user_count_threshold;
    std::optional<bool> is_active;
};
MSG_DESCRIBE_STRUCT(TenantPatch, (),
                    (name, deployment_mode, dedicated_dsn, dedicated_redis_addr,
                     dedicated_lavinmq_url, dedicated_minio_endpoint, dedicated_minio_access_key,
                     dedicated_minio_secret_key, dedicated_minio_bucket, dedicated_minio_use_ssl,
                     user_count_threshold, is_active))

void apply(const TenantPatch& patch, Tenant& tenant);

/// Lowercases and trims deployment_mode, then checks the seed's rules in the seed's order:
/// `tenant_id is required`, `tenant_id is invalid`, `name is required`,
/// `user_count_threshold must be greater than 0`, `deployment_mode must be shared or
/// dedicated`, `dedicated_dsn is required for dedicated mode`.
std::optional<core::Error> normalize_and_validate(Tenant& tenant);

/// Public JSON: every seed field, secrets as "" plus `<secret>_configured` booleans.
boost::json::value to_json(const Tenant& t);

inline constexpr std::size_t kMaxNameBytes = 200;
inline constexpr std::size_t kMaxDsnBytes = 2048;
inline constexpr std::size_t kMaxSettingBytes = 512;

}  // namespace msg::tenant
