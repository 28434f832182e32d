#include <boost/asio/io_context.hpp>

#include "data/executor.hpp"
#include "storage/pg/pool.hpp"
#include "tenant/operations.hpp"
#include "tenant/service.hpp"
#include "testing/co_test.hpp"
#include "testing/pg_database.hpp"

namespace msg::tenant {
namespace {

struct Fixture {
    explicit Fixture(boost::asio::io_context& io)
        : pool(io, testing::test_pool_options(2)), db(pool), service(db, "default") {}
    pg::Pool pool;
    data::Executor db;
    TenantService service;
};

const core::Principal kPlatformAdmin{1, "default", "admin"};

Tenant make(const std::string& id) {
    Tenant t;
    t.tenant_id = id;
    t.name = "Tenant " + id;
    t.deployment_mode = " Shared ";
    return t;
}

CO_TEST(TenantOps, CreateListAndDuplicate) {
    Fixture f(ctx.io);
    auto id = testing::unique_tenant("acme");
    auto tenant = make(id);
    auto created = co_await f.service.create(kPlatformAdmin, tenant);
    CO_ASSERT(created.has_value());
    EXPECT_EQ(created->deployment_mode, "shared");  // normalised
    EXPECT_TRUE(created->is_active);
    EXPECT_EQ(created->user_count_threshold, 200);
    auto again = co_await f.service.create(kPlatformAdmin, tenant);
    CO_ASSERT(!again.has_value());
    EXPECT_EQ(again.error().code, core::ErrorCode::conflict);

    auto all = co_await f.service.list(kPlatformAdmin);
    CO_ASSERT(all.has_value());
    bool seen = false;
    for (const auto& t : *all) seen = seen || t.tenant_id == id;
    EXPECT_TRUE(seen);
    EXPECT_GE(all->size(), 2u);  // "default" too
}

/// The error text of a create ("" on success). A named coroutine: GCC 12 miscompiles
/// capturing coroutine lambdas.
core::Task<std::string> create_error(TenantService& service, Tenant t) {
    auto r = co_await service.create(kPlatformAdmin, std::move(t));
    co_return r ? "" : r.error().message;
}

CO_TEST(TenantOps, ValidationUsesSeedTexts) {
    Fixture f(ctx.io);
    auto t = make("");
    EXPECT_EQ(co_await create_error(f.service, t), "tenant_id is required");
    t = make("bad id!");
    EXPECT_EQ(co_await create_error(f.service, t), "tenant_id is invalid");
    t = make(testing::unique_tenant());
    t.name = "";
    EXPECT_EQ(co_await create_error(f.service, t), "name is required");
    t = make(testing::unique_tenant());
    t.user_count_threshold = -1;
    EXPECT_EQ(co_await create_error(f.service, t), "user_count_threshold must be greater than 0");
    t = make(testing::unique_tenant());
    t.deployment_mode = "hybrid";
    EXPECT_EQ(co_await create_error(f.service, t), "deployment_mode must be shared or dedicated");
    t = make(testing::unique_tenant());
    t.deployment_mode = "dedicated";
    EXPECT_EQ(co_await create_error(f.service, t), "dedicated_dsn is required for dedicated mode");
}

CO_TEST(TenantOps, PatchIsPartial) {
    Fixture f(ctx.io);
    auto id = testing::unique_tenant();
    auto base = make(id);
    base.dedicated_redis_addr = "redis:6379";
    base.dedicated_minio_secret_key = "s3cr3t";
    co_await f.service.create(kPlatformAdmin, base);

    TenantPatch p;
    p.name = "Renamed";
    auto updated = co_await f.service.update(kPlatformAdmin, id, p);
    CO_ASSERT(updated.has_value());
    EXPECT_EQ(updated->name, "Renamed");
    EXPECT_TRUE(updated->is_active);                         // omitted: unchanged (seed bug fixed)
    EXPECT_EQ(updated->dedicated_redis_addr, "redis:6379");  // omitted: unchanged
    EXPECT_EQ(updated->dedicated_minio_secret_key, "s3cr3t");

    TenantPatch to_dedicated;
    to_dedicated.deployment_mode = "dedicated";
    auto refused = co_await f.service.update(kPlatformAdmin, id, to_dedicated);
    CO_ASSERT(!refused.has_value());
    EXPECT_EQ(refused.error().message, "dedicated_dsn is required for dedicated mode");
    to_dedicated.dedicated_dsn = "host=db2";
    auto ok = co_await f.service.update(kPlatformAdmin, id, to_dedicated);
    CO_ASSERT(ok.has_value());
    EXPECT_EQ(ok->deployment_mode, "dedicated");

    const std::string unknown = "no-such-tenant";
    auto missing = co_await f.service.update(kPlatformAdmin, unknown, p);
    EXPECT_EQ(missing.error().code, core::ErrorCode::not_found);
}

CO_TEST(TenantOps, AccessRules) {
    Fixture f(ctx.io);
    auto mine = testing::unique_tenant(), other = testing::unique_tenant();
    auto mine_tenant = make(mine), other_tenant = make(other),
         third = make(testing::unique_tenant());
    co_await f.service.create(kPlatformAdmin, mine_tenant);
    co_await f.service.create(kPlatformAdmin, other_tenant);
    const core::Principal tenant_admin{7, mine, "admin"};
    const core::Principal manager{8, mine, "manager"};
    const core::Principal platform_manager{9, "default", "manager"};

    auto visible = co_await f.service.list(tenant_admin);
    CO_ASSERT(visible && visible->size() == 1);
    EXPECT_EQ((*visible)[0].tenant_id, mine);
    EXPECT_EQ((co_await f.service.list(manager)).error().code, core::ErrorCode::forbidden);
    EXPECT_EQ((co_await f.service.list(platform_manager)).error().code, core::ErrorCode::forbidden);
    EXPECT_EQ((co_await f.service.create(tenant_admin, third)).error().code,
              core::ErrorCode::forbidden);

    TenantPatch p;
    p.name = "Mine";
    EXPECT_TRUE(co_await f.service.update(tenant_admin, mine, p));
    EXPECT_EQ((co_await f.service.update(tenant_admin, other, p)).error().code,
              core::ErrorCode::forbidden);
    EXPECT_EQ((co_await f.service.update(manager, mine, p)).error().code,
              core::ErrorCode::forbidden);

    TenantPatch off;
    off.is_active = false;
    const std::string platform = "default";
    EXPECT_EQ((co_await f.service.update(kPlatformAdmin, platform, off)).error().message,
              "the platform tenant cannot be deactivated");
}

}  // namespace
}  // namespace msg::tenant
