#include "tenant/model.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/text.hpp"

namespace msg::tenant {

void apply(const TenantPatch& p, Tenant& t) {
    auto set = [](auto& field, const auto& value) {
        if (value) field = *value;
    };
    set(t.name, p.name);
    set(t.deployment_mode, p.deployment_mode);
    set(t.dedicated_dsn, p.dedicated_dsn);
    set(t.dedicated_redis_addr, p.dedicated_redis_addr);
    set(t.dedicated_lavinmq_url, p.dedicated_lavinmq_url);
    set(t.dedicated_minio_endpoint, p.dedicated_minio_endpoint);
    set(t.dedicated_minio_access_key, p.dedicated_minio_access_key);
    set(t.dedicated_minio_secret_key, p.dedicated_minio_secret_key);
    set(t.dedicated_minio_bucket, p.dedicated_minio_bucket);
    set(t.dedicated_minio_use_ssl, p.dedicated_minio_use_ssl);
    set(t.user_count_threshold, p.user_count_threshold);
    set(t.is_active, p.is_active);
}

namespace {
bool valid_slug(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    auto alnum = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    };
    if (!alnum(s[0])) return false;
    for (char c : s) {
        if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
    }
    return true;
}
}  // namespace

std::optional<core::Error> normalize_and_validate(Tenant& t) {
    std::string mode;
    for (char c : t.deployment_mode) {
        if (c == ' ' || c == '\t') continue;
        mode += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    t.deployment_mode = mode;
    if (t.tenant_id.empty()) return core::invalid("tenant_id is required");
    if (!valid_slug(t.tenant_id)) return core::invalid("tenant_id is invalid");
    if (t.name.empty()) return core::invalid("name is required");
    if (t.user_count_threshold <= 0 || t.user_count_threshold > 2'000'000'000) {
        return core::invalid("user_count_threshold must be greater than 0");
    }
    if (mode != "shared" && mode != "dedicated") {
        return core::invalid("deployment_mode must be shared or dedicated");
    }
    if (mode == "dedicated" && t.dedicated_dsn.empty()) {
        return core::invalid("dedicated_dsn is required for dedicated mode");
    }
    return std::nullopt;
}

boost::json::value to_json(const Tenant& t) {
    return boost::json::object{
        {"tenant_id", t.tenant_id},
        {"name", t.name},
        {"deployment_mode", t.deployment_mode},
        {"dedicated_dsn", ""},
        {"dedicated_dsn_configured", !t.dedicated_dsn.empty()},
        {"dedicated_redis_addr", core::mask_url_password(t.dedicated_redis_addr)},
        {"dedicated_lavinmq_url", core::mask_url_password(t.dedicated_lavinmq_url)},
        {"dedicated_minio_endpoint", core::mask_url_password(t.dedicated_minio_endpoint)},
        {"dedicated_minio_access_key", ""},
        {"dedicated_minio_access_key_configured", !t.dedicated_minio_access_key.empty()},
        {"dedicated_minio_secret_key", ""},
        {"dedicated_minio_secret_key_configured", !t.dedicated_minio_secret_key.empty()},
        {"dedicated_minio_bucket", t.dedicated_minio_bucket},
        {"dedicated_minio_use_ssl", t.dedicated_minio_use_ssl},
        {"user_count_threshold", t.user_count_threshold},
        {"is_active", t.is_active},
        {"created_at", t.created_at},
        {"updated_at", t.updated_at},
    };
}

}  // namespace msg::tenant
