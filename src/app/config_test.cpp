#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>

#include "app/commands.hpp"
#include "app/config.hpp"
#include "app/roles.hpp"

namespace msg::app {
namespace {

core::Result<Config> load(const std::map<std::string, std::string>& env) {
    return load_config([&env](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    });
}

const std::string kSecret(40, 's');

TEST(Config, DevDefaults) {
    auto c = load({{"APP_ENV", "dev"}});
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->ports.main, 8080);
    EXPECT_EQ(c->ports.session, 8090);
    EXPECT_EQ(c->auth.jwt_secret, kDefaultJwtSecret);
    EXPECT_EQ(c->auth.jwt_ttl, std::chrono::minutes(1440));
    EXPECT_EQ(c->platform_tenant_id, "default");
    EXPECT_EQ(c->cors.allowed_origins, std::vector<std::string>{"*"});
    EXPECT_FALSE(c->admin.password);
}

TEST(Config, ProductionNeedsARealJwtSecret) {
    EXPECT_EQ(load({}).error().message,
              "JWT_SECRET must be set (at least 32 bytes) unless APP_ENV=dev");
    EXPECT_FALSE(load({{"JWT_SECRET", kDefaultJwtSecret}}));
    EXPECT_FALSE(load({{"JWT_SECRET", "short"}}));
    auto c = load({{"JWT_SECRET", kSecret}});
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->cors.allowed_origins.empty());  // same origin only outside dev
}

TEST(Config, BadValuesNameTheVariable) {
    auto bad_port = load({{"APP_ENV", "dev"}, {"PORT", "80a"}});
    ASSERT_FALSE(bad_port);
    EXPECT_EQ(bad_port.error().message, "PORT must be an integer from 0 to 65535 (got \"80a\")");
    EXPECT_NE(load({{"APP_ENV", "dev"}, {"PORT", "70000"}}).error().message.find("PORT"),
              std::string::npos);
    EXPECT_NE(load({{"APP_ENV", "dev"}, {"JWT_TTL_MINUTES", "0"}})
                  .error()
                  .message.find("JWT_TTL_MINUTES"),
              std::string::npos);
    EXPECT_NE(load({{"APP_ENV", "dev"}, {"LOG_FORMAT", "xml"}}).error().message.find("LOG_FORMAT"),
              std::string::npos);
    EXPECT_NE(load({{"APP_ENV", "nope"}}).error().message.find("APP_ENV"), std::string::npos);
    EXPECT_NE(load({{"APP_ENV", "dev"}, {"ADMIN_PASSWORD", "short"}})
                  .error()
                  .message.find("ADMIN_PASSWORD"),
              std::string::npos);
}

TEST(Config, IdleTimeoutMustExceedThePingInterval) {
    // A peer answers a ping only after it was sent: an idle timeout at or under the interval
    // would drop every healthy idle socket.
    auto equal = load({{"APP_ENV", "dev"},
                       {"WS_PING_INTERVAL_SECONDS", "30"},
                       {"WS_IDLE_TIMEOUT_SECONDS", "30"}});
    ASSERT_FALSE(equal);
    EXPECT_EQ(equal.error().message,
              "WS_IDLE_TIMEOUT_SECONDS must be greater than WS_PING_INTERVAL_SECONDS");
    auto ok = load(
        {{"APP_ENV", "dev"}, {"WS_PING_INTERVAL_SECONDS", "5"}, {"WS_IDLE_TIMEOUT_SECONDS", "20"}});
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->server.ws.idle_timeout, std::chrono::seconds(20));
}

TEST(Config, SeedNamesAndCsvLists) {
    auto c = load({{"APP_ENV", "dev"},
                   {"SESSIOND_PORT", "9000"},
                   {"PORT", "0"},
                   {"TRUSTED_PROXIES", " 10.0.0.1, ,10.0.0.2,10.0.0.1 "},
                   {"CORS_ALLOWED_ORIGINS", "https://a.example,https://b.example"},
                   {"ADMIN_PASSWORD", "correct horse"}});
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->ports.session, 9000);  // legacy name still read
    EXPECT_EQ(c->ports.main, 0);
    EXPECT_EQ(c->server.trusted_proxies, (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
    EXPECT_EQ(c->cors.allowed_origins.size(), 2u);
    EXPECT_EQ(c->admin.password, "correct horse");
    auto both = load({{"APP_ENV", "dev"}, {"SESSIOND_PORT", "9000"}, {"SESSION_PORT", "9100"}});
    EXPECT_EQ(both->ports.session, 9100);  // the current name wins
}

TEST(Config, EmptyMeansUnset) {
    auto c = load({{"APP_ENV", "dev"}, {"PORT", ""}, {"LOG_LEVEL", ""}});
    ASSERT_TRUE(c);
    EXPECT_EQ(c->ports.main, 8080);
    EXPECT_EQ(c->log.level, "info");
}

TEST(Roles, TableKnowsServingRolesAndCommandsApart) {
    ASSERT_TRUE(find_role("all"));
    EXPECT_TRUE(find_role("all")->runs(Worker::migrate_on_start));
    EXPECT_TRUE(find_role("all")->runs(Worker::outbox_relay));
    EXPECT_TRUE(find_role("all")->runs(Worker::consumers));
    // The worker relays and consumes; thumbnails need the blob store.
    ASSERT_TRUE(find_role("worker"));
    EXPECT_TRUE(find_role("worker")->runs(Worker::consumers));
    EXPECT_TRUE(find_role("worker")->uses(Backend::blob));
    EXPECT_FALSE(find_role("vectorman")->runs(Worker::consumers));
    ASSERT_TRUE(find_role("chat"));
    EXPECT_FALSE(find_role("chat")->runs(Worker::outbox_relay));
    EXPECT_FALSE(find_role("chat")->uses(Backend::blob));
    ASSERT_TRUE(find_role("session"));
    EXPECT_EQ(find_role("session")->port, &Ports::session);
    EXPECT_TRUE(find_role("session")->uses(Backend::blob));  // notes attach files
    EXPECT_FALSE(find_role("migrate"));                      // a command, not a serving role
    EXPECT_FALSE(find_role("bogus"));
    for (auto name : {"migrate", "seed-admin", "reindex"}) {
        ASSERT_NE(find_command(name), nullptr) << name;
        EXPECT_EQ(find_command(name)->name, name);
    }
    EXPECT_EQ(find_command("all"), nullptr);
    auto names = role_names();
    EXPECT_EQ(std::find(names.begin(), names.end(), "seed-admin"), names.end());
}

TEST(Config, SectionsCarryTheSubsystemsOptions) {
    auto c = load({{"APP_ENV", "dev"},
                   {"BIND_ADDRESS", "127.0.0.1"},
                   {"HTTP_BODY_LIMIT_BYTES", "2048"},
                   {"UPLOAD_DEADLINE_SECONDS", "60"},
                   {"WS_FRAMES_PER_SECOND", "7"},
                   {"PG_POOL_SIZE", "3"},
                   {"PG_STATEMENT_TIMEOUT_MS", "1500"},
                   {"POSTGRES_DSN", "host=/tmp dbname=x"},
                   {"PASSWORD_HASH_MEMORY_KIB", "16"},
                   {"PASSWORD_HASH_OPS", "3"},
                   {"LOGIN_RATE_PER_IP", "9"},
                   {"WS_MAX_SOCKETS_PER_USER", "4"}});
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->server.address, "127.0.0.1");
    EXPECT_EQ(c->server.body_limit, 2048u);
    EXPECT_EQ(c->server.stream_deadline, std::chrono::seconds(60));
    EXPECT_EQ(c->server.ws.frames_per_second, 7);
    EXPECT_EQ(c->server.header_limit, 16u * 1024);  // untouched: the subsystem's default
    EXPECT_EQ(c->postgres.pool.max_size, 3u);
    EXPECT_EQ(c->postgres.pool.connection.statement_timeout, std::chrono::milliseconds(1500));
    EXPECT_EQ(c->postgres.dsn(), "host=/tmp dbname=x");
    EXPECT_EQ(c->auth.password_cost.mem_bytes, 16u * 1024);
    EXPECT_EQ(c->auth.password_cost.ops, 3u);
    EXPECT_EQ(c->auth.login.per_ip_per_minute, 9);
    EXPECT_EQ(c->auth.credentials.max_sockets_per_user, 4u);
}

TEST(Config, EventBrokerUrlAndSwitch) {
    auto none = load({{"APP_ENV", "dev"}});
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->lavinmq_url.empty());  // unset: in-process consumers only
    EXPECT_TRUE(none->use_mq);
    auto on = load({{"APP_ENV", "dev"},
                    {"LAVINMQ_URL", "amqp://guest:guest@mq:5672/"},
                    {"CHAT_USE_MQ", "false"},
                    {"OUTBOX_RETENTION_SECONDS", "600"}});
    ASSERT_TRUE(on) << on.error().message;
    EXPECT_FALSE(on->use_mq);
    EXPECT_EQ(on->outbox_retention, std::chrono::seconds(600));
    auto bad = load({{"APP_ENV", "dev"}, {"LAVINMQ_URL", "amqp://pw:secret@:x/"}});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message.find("secret"), std::string::npos);
    EXPECT_FALSE(load({{"APP_ENV", "dev"}, {"LAVINMQ_URL", "amqps://mq/"}}));
    EXPECT_FALSE(load({{"APP_ENV", "dev"}, {"CHAT_USE_MQ", "maybe"}}));
}

TEST(Config, VectorBackendFollowsMilvusEndpoint) {
    auto local = load({{"APP_ENV", "dev"}});
    ASSERT_TRUE(local);
    EXPECT_EQ(local->vector.backend, "hnsw");
    EXPECT_EQ(local->ports.vectorman, 8083);
    auto milvus = load({{"APP_ENV", "dev"}, {"MILVUS_ENDPOINT", "http://milvus:19530"}});
    ASSERT_TRUE(milvus);
    EXPECT_EQ(milvus->vector.backend, "milvus");
    auto off = load({{"APP_ENV", "dev"}, {"VECTOR_BACKEND", "off"}});
    ASSERT_TRUE(off);
    EXPECT_EQ(off->vector.backend, "off");
    EXPECT_EQ(load({{"APP_ENV", "dev"}, {"VECTOR_BACKEND", "milvus"}}).error().message,
              "MILVUS_ENDPOINT must be set when VECTOR_BACKEND=milvus");
    EXPECT_FALSE(load({{"APP_ENV", "dev"}, {"VECTOR_BACKEND", "qdrant"}}));
    EXPECT_FALSE(load({{"APP_ENV", "dev"}, {"MILVUS_ENDPOINT", "https://milvus:19530"}}));
    EXPECT_EQ(load({{"APP_ENV", "dev"}, {"INTERNAL_API_TOKEN", "short"}}).error().message,
              "INTERNAL_API_TOKEN must be at least 32 bytes");
    EXPECT_FALSE(load({{"APP_ENV", "dev"}, {"VECTOR_DIM", "4"}}));
}

TEST(Roles, EveryRowNamesTheBackendsItsGroupsNeed) {
    // A row that drifts would lose routes silently: files routes (and notes' attachment
    // check) and the thumbnails consumer need the blob store, the vector routes need the
    // vector backend.
    for (auto name : role_names()) {
        auto role = find_role(name);
        ASSERT_TRUE(role) << name;
        EXPECT_EQ(role->uses(Backend::blob), role->has(RouteGroup::files) ||
                                                 role->has(RouteGroup::session) ||
                                                 role->runs(Worker::consumers))
            << name;
        EXPECT_EQ(role->uses(Backend::vector), role->has(RouteGroup::vector)) << name;
    }
    EXPECT_TRUE(find_role("vectorman")->serves_only(RouteGroup::vector));
    EXPECT_FALSE(find_role("all")->serves_only(RouteGroup::vector));
}

TEST(Roles, VectormanHasItsOwnPort) {
    auto role = find_role("vectorman");
    ASSERT_TRUE(role);
    EXPECT_EQ(role->port, &Ports::vectorman);
    EXPECT_TRUE(role->uses(Backend::vector));
    EXPECT_TRUE(role->has(RouteGroup::vector));
    EXPECT_TRUE(find_role("all")->has(RouteGroup::vector));
    EXPECT_FALSE(find_role("chat")->has(RouteGroup::vector));
}

}  // namespace
}  // namespace msg::app
