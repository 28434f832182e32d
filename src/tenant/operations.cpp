#include "tenant/operations.hpp"

#include "data/executor.hpp"
#include "storage/pg/connection.hpp"
#include "storage/pg/migrate.hpp"

namespace msg::tenant {

namespace {

#define MSG_TENANT_COLUMNS                                                          \
    "tenant_id, name, deployment_mode, dedicated_dsn, dedicated_redis_addr,"        \
    " dedicated_lavinmq_url, dedicated_minio_endpoint, dedicated_minio_access_key," \
    " dedicated_minio_secret_key, dedicated_minio_bucket, dedicated_minio_use_ssl," \
    " user_count_threshold, is_active, created_at, updated_at"

constexpr std::string_view kList = "SELECT " MSG_TENANT_COLUMNS
                                   " FROM tenants WHERE ($1::text IS NULL OR tenant_id = $1)"
                                   " ORDER BY tenant_id LIMIT 10000";

constexpr std::string_view kInsert =
    "INSERT INTO tenants (tenant_id, name, deployment_mode, dedicated_dsn, dedicated_redis_addr,"
    " dedicated_lavinmq_url, dedicated_minio_endpoint, dedicated_minio_access_key,"
    " dedicated_minio_secret_key, dedicated_minio_bucket, dedicated_minio_use_ssl,"
    " user_count_threshold, is_active)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    " RETURNING " MSG_TENANT_COLUMNS;

constexpr std::string_view kLockOne = "SELECT " MSG_TENANT_COLUMNS
                                      ", move_dsn <> '' FROM tenants WHERE tenant_id = $1"
                                      " FOR UPDATE";

constexpr std::string_view kUpdate =
    "UPDATE tenants SET name = $2, deployment_mode = $3, dedicated_dsn = $4,"
    " dedicated_redis_addr = $5, dedicated_lavinmq_url = $6, dedicated_minio_endpoint = $7,"
    " dedicated_minio_access_key = $8, dedicated_minio_secret_key = $9,"
    " dedicated_minio_bucket = $10, dedicated_minio_use_ssl = $11, user_count_threshold = $12,"
    " is_active = $13, updated_at = now() WHERE tenant_id = $1"
    " RETURNING " MSG_TENANT_COLUMNS;

#undef MSG_TENANT_COLUMNS

constexpr std::string_view kHasData =
    "SELECT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1)"
    " OR EXISTS (SELECT 1 FROM org_units WHERE tenant_id = $1)"
    " OR EXISTS (SELECT 1 FROM chat_rooms WHERE tenant_id = $1)";

// The dedicated database's own row: what login and token checks join; no settings (the
// registry in the shared database has them, sealed).
constexpr std::string_view kUpsertOwnRow =
    "INSERT INTO tenants (tenant_id, name, deployment_mode, is_active)"
    " VALUES ($1, $2, 'dedicated', $3)"
    " ON CONFLICT (tenant_id) DO UPDATE SET name = EXCLUDED.name,"
    " deployment_mode = 'dedicated', is_active = EXCLUDED.is_active, updated_at = now()";

Tenant tenant_from(const pg::Rows& r, int i) {
    Tenant t;
    t.tenant_id = r.string(i, 0);
    t.name = r.string(i, 1);
    t.deployment_mode = r.string(i, 2);
    t.dedicated_dsn = r.string(i, 3);
    t.dedicated_redis_addr = r.string(i, 4);
    t.dedicated_lavinmq_url = r.string(i, 5);
    t.dedicated_minio_endpoint = r.string(i, 6);
    t.dedicated_minio_access_key = r.string(i, 7);
    t.dedicated_minio_secret_key = r.string(i, 8);
    t.dedicated_minio_bucket = r.string(i, 9);
    t.dedicated_minio_use_ssl = r.boolean(i, 10);
    t.user_count_threshold = r.int64(i, 11);
    t.is_active = r.boolean(i, 12);
    t.created_at = r.time(i, 13);
    t.updated_at = r.time(i, 14);
    return t;
}

}  // namespace

core::Task<core::Result<ListTenants::Response>> ListTenants::run(pg::Connection& c,
                                                                 const Request& r) {
    auto rows = co_await c.query(kList, r.only);
    Response out;
    for (int i = 0; i < rows.size(); ++i) out.items.push_back(tenant_from(rows, i));
    co_return out;
}

core::Task<core::Result<Tenant>> CreateTenant::run(pg::Connection& c, const Request& t) {
    try {
        auto rows = co_await c.query(
            kInsert, t.tenant_id, t.name, t.deployment_mode, t.dedicated_dsn,
            t.dedicated_redis_addr, t.dedicated_lavinmq_url, t.dedicated_minio_endpoint,
            t.dedicated_minio_access_key, t.dedicated_minio_secret_key, t.dedicated_minio_bucket,
            t.dedicated_minio_use_ssl, t.user_count_threshold, t.is_active);
        co_return tenant_from(rows, 0);
    } catch (const pg::SqlError& e) {
        if (!e.unique_violation()) throw;
    }
    co_return core::conflict("tenant already exists");
}

core::Task<core::Result<TenantHasData::Response>> TenantHasData::run(pg::Connection& c,
                                                                     const Request& r) {
    auto rows = co_await c.query(kHasData, r.tenant_id);
    co_return Response{rows.boolean(0, 0)};
}

core::Task<core::Result<ProvisionTenant::Response>> ProvisionTenant::run(pg::Connection& c,
                                                                         const Request& r) {
    const auto migrations = pg::embedded_migrations();
    auto applied = co_await pg::migrate(c, migrations);
    co_await c.query(kUpsertOwnRow, r.tenant_id, r.name, r.is_active);
    co_return Response{static_cast<int>(applied.size())};
}

core::Task<core::Result<Tenant>> UpdateTenant::run(pg::Connection& c, const Request& r) {
    co_await data::begin(c);
    auto rows = co_await c.query(kLockOne, r.tenant_id);
    if (rows.empty()) {
        co_await data::rollback(c);
        co_return core::not_found("tenant not found");
    }
    if (rows.boolean(0, 15)) {  // tenant-move copies the row's settings as they are now
        co_await data::rollback(c);
        co_return core::conflict("tenant is being moved; try again later");
    }
    Tenant t = tenant_from(rows, 0);
    apply(r.patch, t);
    if (auto error = normalize_and_validate(t)) {
        co_await data::rollback(c);
        co_return *error;
    }
    auto updated = co_await c.query(
        kUpdate, t.tenant_id, t.name, t.deployment_mode, t.dedicated_dsn, t.dedicated_redis_addr,
        t.dedicated_lavinmq_url, t.dedicated_minio_endpoint, t.dedicated_minio_access_key,
        t.dedicated_minio_secret_key, t.dedicated_minio_bucket, t.dedicated_minio_use_ssl,
        t.user_count_threshold, t.is_active);
    co_await data::commit(c);
    co_return tenant_from(updated, 0);
}

}  // namespace msg::tenant
