#include <boost/asio/io_context.hpp>

#include "data/executor.hpp"
#include "org/operations.hpp"
#include "search/tokenizer.hpp"
#include "storage/pg/pool.hpp"
#include "testing/co_test.hpp"
#include "testing/pg_database.hpp"

namespace msg::org {
namespace {

struct Fixture {
    explicit Fixture(boost::asio::io_context& io)
        : pool(io, testing::test_pool_options(4)), db(pool) {}

    /// A new tenant with one org unit; returns the org unit id.
    core::Task<std::int64_t> tenant(std::string id) {
        auto c = co_await pool.acquire();
        co_await c->query("INSERT INTO tenants (tenant_id, name) VALUES ($1, $1)", id);
        auto r = co_await db.run<CreateOrgUnit>(id, std::nullopt, "HQ");
        co_return r.value().id;
    }

    // string_view parameters: a literal argument must not become a std::string temporary
    // inside the caller's co_await expression (GCC 12).
    core::Task<std::int64_t> user(std::string_view tenant, std::int64_t org, std::string_view email,
                                  std::string_view name = "User", std::string_view title = "") {
        CreateUser::Request req{std::string(tenant),
                                org,
                                std::string(email),
                                std::string(name),
                                std::string(title),
                                "user",
                                "offline",
                                "",
                                "hash"};
        auto r = co_await db.run<CreateUser>(std::move(req));
        co_return r.value().id;
    }

    pg::Pool pool;
    data::Executor db;
};

CO_TEST(OrgOps, OrgUnitsAreTenantScoped) {
    Fixture f(ctx.io);
    auto a = testing::unique_tenant(), b = testing::unique_tenant();
    auto root_a = co_await f.tenant(a);
    auto root_b = co_await f.tenant(b);
    auto child = co_await f.db.run<CreateOrgUnit>(a, root_a, "Dev");
    CO_ASSERT(child.has_value());
    // A parent from another tenant is refused, as is one that does not exist.
    auto cross = co_await f.db.run<CreateOrgUnit>(a, root_b, "Sneaky");
    CO_ASSERT(!cross.has_value());
    EXPECT_EQ(cross.error().message, "parent_id is invalid");
    auto missing = co_await f.db.run<CreateOrgUnit>(a, 999'999'999, "Ghost");
    EXPECT_FALSE(missing.has_value());

    auto list = co_await f.db.run<ListOrgUnits>(a);
    CO_ASSERT(list && list->items.size() == 2);
    EXPECT_EQ(list->items[0].id, root_a);
    EXPECT_FALSE(list->items[0].parent_id);
    EXPECT_EQ(list->items[1].parent_id, root_a);
    EXPECT_EQ(list->items[1].name, "Dev");
    EXPECT_EQ(list->items[1].tenant_id, a);
}

CO_TEST(OrgOps, UsersHaveCaseInsensitiveUniqueEmailPerTenant) {
    Fixture f(ctx.io);
    auto a = testing::unique_tenant(), b = testing::unique_tenant();
    auto org_a = co_await f.tenant(a);
    auto org_b = co_await f.tenant(b);
    co_await f.user(a, org_a, "Kim@Example.com");
    auto dup = co_await f.db.run<CreateUser>(a, org_a, "kim@example.COM", "Kim", "", "user",
                                             "offline", "", "h");
    CO_ASSERT(!dup.has_value());
    EXPECT_EQ(dup.error().code, core::ErrorCode::conflict);
    EXPECT_EQ(dup.error().message, "email already exists");
    // Same email in another tenant is fine; an org unit of another tenant is not.
    auto other = co_await f.db.run<CreateUser>(b, org_b, "kim@example.com", "Kim", "", "user",
                                               "offline", "", "h");
    EXPECT_TRUE(other.has_value());
    auto cross_org = co_await f.db.run<CreateUser>(a, org_b, "lee@example.com", "Lee", "", "user",
                                                   "offline", "", "h");
    CO_ASSERT(!cross_org.has_value());
    EXPECT_EQ(cross_org.error().message, "org_id is invalid");
}

CO_TEST(OrgOps, LoginLookupIgnoresCaseAndInactiveTenants) {
    Fixture f(ctx.io);
    auto a = testing::unique_tenant();
    auto org = co_await f.tenant(a);
    auto id = co_await f.user(a, org, "Park@Example.com");
    auto found = co_await f.db.run<FindLoginUser>(a, "park@example.com");
    CO_ASSERT(found && found->found);
    EXPECT_EQ(found->user_id, id);
    EXPECT_EQ(found->password_hash, "hash");
    auto wrong_tenant = co_await f.db.run<FindLoginUser>("default", "park@example.com");
    EXPECT_FALSE(wrong_tenant->found);
    {
        auto c = co_await f.pool.acquire();
        co_await c->query("UPDATE tenants SET is_active = false WHERE tenant_id = $1", a);
    }
    auto inactive = co_await f.db.run<FindLoginUser>(a, "park@example.com");
    EXPECT_FALSE(inactive->found);
}

CO_TEST(OrgOps, GetAndUpdateStatus) {
    Fixture f(ctx.io);
    auto a = testing::unique_tenant(), b = testing::unique_tenant();
    auto org = co_await f.tenant(a);
    co_await f.tenant(b);
    auto id = co_await f.user(a, org, "choi@example.com", "최민수", "Engineer");
    auto updated = co_await f.db.run<UpdateUserStatus>(a, id, "busy", "in a meeting");
    EXPECT_TRUE(updated.has_value());
    auto user = co_await f.db.run<GetUser>(a, id);
    CO_ASSERT(user.has_value());
    EXPECT_EQ(user->status, "busy");
    EXPECT_EQ(user->status_note, "in a meeting");
    EXPECT_EQ(user->name, "최민수");
    EXPECT_TRUE(user->created_at.ends_with("Z"));
    // Another tenant cannot see or touch the user.
    auto hidden = co_await f.db.run<GetUser>(b, id);
    EXPECT_EQ(hidden.error().code, core::ErrorCode::not_found);
    auto foreign = co_await f.db.run<UpdateUserStatus>(b, id, "away", "");
    EXPECT_EQ(foreign.error().message, "user not found");
}

CO_TEST(OrgOps, AutomaticPresenceLeavesAManualStatusAlone) {
    Fixture f(ctx.io);
    auto a = testing::unique_tenant(), b = testing::unique_tenant();
    auto org = co_await f.tenant(a);
    co_await f.tenant(b);
    auto id = co_await f.user(a, org, "park@example.com");

    // offline → online is a change; online again is not.
    auto up = co_await f.db.run<SetAutoPresence>(a, id, true);
    CO_ASSERT(up.has_value());
    EXPECT_TRUE(up->changed);
    EXPECT_EQ(up->change.status, "online");
    EXPECT_EQ(up->change.user_id, id);
    EXPECT_TRUE(up->change.updated_at.ends_with("Z"));
    auto again = co_await f.db.run<SetAutoPresence>(a, id, true);
    EXPECT_FALSE(again->changed);

    // A status chosen by hand (busy) survives the last socket closing…
    auto busy = co_await f.db.run<UpdateUserStatus>(a, id, "busy", "focus");
    CO_ASSERT(busy.has_value());
    EXPECT_EQ(busy->status, "busy");
    EXPECT_EQ(busy->status_note, "focus");
    auto down = co_await f.db.run<SetAutoPresence>(a, id, false);
    EXPECT_FALSE(down->changed);
    auto still = co_await f.db.run<GetUser>(a, id);
    EXPECT_EQ(still->status, "busy");

    // …until the user sets online again, which hands presence back to the sockets.
    co_await f.db.run<UpdateUserStatus>(a, id, "online", "");
    auto off = co_await f.db.run<SetAutoPresence>(a, id, false);
    EXPECT_TRUE(off->changed);
    EXPECT_EQ(off->change.status, "offline");

    // Another tenant's id does nothing.
    auto foreign = co_await f.db.run<SetAutoPresence>(b, id, true);
    EXPECT_FALSE(foreign->changed);
    auto after = co_await f.db.run<GetUser>(a, id);
    EXPECT_EQ(after->status, "offline");
}

CO_TEST(OrgOps, StartUpResetClearsOnlyAutomaticOnline) {
    Fixture f(ctx.io);
    auto a = testing::unique_tenant();
    auto org = co_await f.tenant(a);
    auto automatic = co_await f.user(a, org, "auto@example.com");
    auto manual = co_await f.user(a, org, "manual@example.com");
    co_await f.db.run<SetAutoPresence>(a, automatic, true);
    co_await f.db.run<UpdateUserStatus>(a, manual, "busy", "");

    auto reset = co_await f.db.run<ResetAutoPresence>();
    CO_ASSERT(reset.has_value());
    EXPECT_GE(reset->reset, 1);
    auto after_auto = co_await f.db.run<GetUser>(a, automatic);
    EXPECT_EQ(after_auto->status, "offline");
    auto after_manual = co_await f.db.run<GetUser>(a, manual);
    EXPECT_EQ(after_manual->status, "busy");

    // A user created with a chosen status other than online/offline keeps it too.
    CreateUser::Request req{a, org, "away@example.com", "Away", "", "user", "away", "", "h"};
    auto away = co_await f.db.run<CreateUser>(std::move(req));
    auto up = co_await f.db.run<SetAutoPresence>(a, away->id, true);
    EXPECT_FALSE(up->changed);
}

std::string tsquery(std::string_view q) { return search::to_tsquery(search::parse_query(q)); }

std::vector<std::int64_t> ids(const SearchUsers::Response& r) {
    std::vector<std::int64_t> out;
    for (const auto& u : r.items) out.push_back(u.id);
    return out;
}

CO_TEST(OrgOps, SearchTokensFollowNamesTitlesAndAliases) {
    Fixture f(ctx.io);
    auto a = testing::unique_tenant(), b = testing::unique_tenant();
    auto org = co_await f.tenant(a);
    auto org_b = co_await f.tenant(b);
    auto kim = co_await f.user(a, org, "kim@example.com", "김철수", "Backend Lead");
    auto lee = co_await f.user(a, org, "lee@example.com", "이영희", "100% Designer");
    co_await f.user(b, org_b, "kim2@example.com", "김철수", "");

    SearchUsers::Request req{a, tsquery("철수"), std::nullopt, std::nullopt, 20};
    auto by_korean = co_await f.db.run<SearchUsers>(req);
    CO_ASSERT(by_korean.has_value());
    EXPECT_EQ(ids(*by_korean), std::vector<std::int64_t>{kim});  // not the other tenant's
    req.tsquery = tsquery("ＢＡＣＫＥＮＤ");                     // full width, upper case
    auto by_title = co_await f.db.run<SearchUsers>(req);
    EXPECT_EQ(ids(*by_title), std::vector<std::int64_t>{kim});

    // An alias is searchable once added and not after it is deleted; the candidate carries
    // the aliases for verification.
    req.tsquery = tsquery("팀장");
    auto before = co_await f.db.run<SearchUsers>(req);
    EXPECT_TRUE(before->items.empty());
    co_await f.db.run<AddAlias>(a, lee, "디자인팀장", "", "");
    auto added = co_await f.db.run<SearchUsers>(req);
    CO_ASSERT(added && added->items.size() == 1);
    EXPECT_EQ(added->items[0].id, lee);
    EXPECT_EQ(added->aliases[0], "디자인팀장");
    co_await f.db.run<DeleteAlias>(a, lee, "디자인팀장", "", "");
    auto deleted = co_await f.db.run<SearchUsers>(req);
    EXPECT_TRUE(deleted->items.empty());

    // Keyset paging: newest change first, then strictly after the last one seen.
    req.tsquery = tsquery("example");
    req.limit = 1;
    auto first = co_await f.db.run<SearchUsers>(req);
    CO_ASSERT(first && first->items.size() == 1);
    EXPECT_EQ(first->items[0].id, lee);  // the alias changes touched nothing but tokens
    req.after_updated_at = first->items[0].updated_at;
    req.after_id = first->items[0].id;
    auto second = co_await f.db.run<SearchUsers>(req);
    EXPECT_EQ(ids(*second), std::vector<std::int64_t>{kim});
}

CO_TEST(OrgOps, IndexUsersFillsMissingTokens) {
    Fixture f(ctx.io);
    auto a = testing::unique_tenant();
    auto org = co_await f.tenant(a);
    auto park = co_await f.user(a, org, "park@example.com", "박지성", "");
    {
        auto c = co_await f.pool.acquire();
        co_await c->query("UPDATE users SET search_tokens = NULL WHERE tenant_id = $1", a);
    }
    SearchUsers::Request req{a, tsquery("지성"), std::nullopt, std::nullopt, 20};
    auto missing = co_await f.db.run<SearchUsers>(req);
    EXPECT_TRUE(missing->items.empty());
    for (;;) {  // other tests' users may be unindexed too; run until none is left
        auto r = co_await f.db.run<IndexUsers>(100);
        CO_ASSERT(r.has_value());
        if (r->indexed == 0) break;
    }
    auto found = co_await f.db.run<SearchUsers>(req);
    EXPECT_EQ(ids(*found), std::vector<std::int64_t>{park});
}

CO_TEST(OrgOps, AliasesAreAuditedOnlyWhenTheyChange) {
    Fixture f(ctx.io);
    auto a = testing::unique_tenant();
    auto org = co_await f.tenant(a);
    auto id = co_await f.user(a, org, "jung@example.com");
    co_await f.db.run<AddAlias>(a, id, "lead", "10.0.0.1", "curl/8");
    co_await f.db.run<AddAlias>(a, id, "lead", "10.0.0.1", "curl/8");  // duplicate: no-op
    co_await f.db.run<AddAlias>(a, id, "개발", "10.0.0.1", "curl/8");
    co_await f.db.run<DeleteAlias>(a, id, "missing", "10.0.0.2", "ua");  // absent: no-op
    co_await f.db.run<DeleteAlias>(a, id, "lead", "10.0.0.2", "ua");

    auto aliases = co_await f.db.run<ListAliases>(a, id);
    CO_ASSERT(aliases.has_value());
    EXPECT_EQ(aliases->aliases, std::vector<std::string>{"개발"});

    ListAliasAudit::Request q;
    q.tenant_id = a;
    q.user_id = id;
    q.limit = 10;
    auto audit = co_await f.db.run<ListAliasAudit>(q);
    CO_ASSERT(audit && audit->items.size() == 3);
    EXPECT_EQ(audit->items[0].action, "delete");  // newest first
    EXPECT_EQ(audit->items[0].alias, "lead");
    EXPECT_EQ(audit->items[0].ip, "10.0.0.2");
    EXPECT_EQ(audit->items[0].acted_by, id);
    EXPECT_EQ(audit->items[2].alias, "lead");
    EXPECT_EQ(audit->items[2].action, "add");
    EXPECT_EQ(audit->items[2].user_agent, "curl/8");

    q.action = "add";
    auto adds = co_await f.db.run<ListAliasAudit>(q);
    EXPECT_EQ(adds->items.size(), 2u);

    // Keyset paging: the cursor of item 0 yields items 1 and 2.
    q.action = "";
    q.cursor_unix_nanos = audit->items[0].created_unix_nanos;
    q.cursor_id = audit->items[0].id;
    auto page2 = co_await f.db.run<ListAliasAudit>(q);
    CO_ASSERT(page2->items.size() == 2);
    EXPECT_EQ(page2->items[0].id, audit->items[1].id);

    // Time window: everything is before "to = first row's time" only for that first row.
    q.cursor_unix_nanos.reset();
    q.cursor_id.reset();
    q.to_unix_nanos = audit->items[2].created_unix_nanos;
    auto early = co_await f.db.run<ListAliasAudit>(q);
    CO_ASSERT(!early->items.empty());
    EXPECT_EQ(early->items.back().id, audit->items[2].id);
    q.to_unix_nanos.reset();
    q.from_unix_nanos = audit->items[0].created_unix_nanos + 1000;
    auto late = co_await f.db.run<ListAliasAudit>(q);
    EXPECT_TRUE(late->items.empty());
}

CO_TEST(OrgOps, AliasCountIsBounded) {
    Fixture f(ctx.io);
    auto a = testing::unique_tenant();
    auto org = co_await f.tenant(a);
    auto id = co_await f.user(a, org, "many@example.com");
    for (std::size_t i = 0; i < kMaxAliasesPerUser; ++i) {
        const std::string alias = "a" + std::to_string(i);
        auto r = co_await f.db.run<AddAlias>(a, id, alias, "", "");
        CO_ASSERT(r.has_value());
    }
    auto over = co_await f.db.run<AddAlias>(a, id, "one_more", "", "");
    CO_ASSERT(!over.has_value());
    EXPECT_EQ(over.error().message, "too many aliases");
    auto again = co_await f.db.run<AddAlias>(a, id, "a0", "", "");  // existing: still fine
    EXPECT_TRUE(again.has_value());
}

CO_TEST(OrgOps, SeedAdminCreatesThenKeepsPassword) {
    Fixture f(ctx.io);
    auto t = testing::unique_tenant("seed");
    auto first = co_await f.db.run<SeedAdmin>(t, "admin@example.com", "Admin", "Boss", "h1", false);
    CO_ASSERT(first && first->created);
    auto second =
        co_await f.db.run<SeedAdmin>(t, "ADMIN@example.com", "Admin", "Boss", "h2", false);
    CO_ASSERT(second && !second->created);
    EXPECT_EQ(second->user_id, first->user_id);
    auto login = co_await f.db.run<FindLoginUser>(t, "admin@example.com");
    EXPECT_EQ(login->password_hash, "h1");
    EXPECT_EQ(login->role, "admin");
    co_await f.db.run<SeedAdmin>(t, "admin@example.com", "Admin", "Boss", "h3", true);
    auto after = co_await f.db.run<FindLoginUser>(t, "admin@example.com");
    EXPECT_EQ(after->password_hash, "h3");
    auto units = co_await f.db.run<ListOrgUnits>(t);
    EXPECT_EQ(units->items.size(), 1u);  // the root unit is created once
}

}  // namespace
}  // namespace msg::org
