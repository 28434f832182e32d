#include "tenant/dedicated.hpp"

#include <gtest/gtest.h>

namespace msg::tenant {
namespace {

std::string dsn_error(const std::string& dsn) {
    TenantPatch p;
    p.dedicated_dsn = dsn;
    auto e = validate_dedicated(p);
    return e ? e->message : "";
}

TEST(DedicatedSettings, DsnAllowsNetworkConnectionsOnly) {
    EXPECT_EQ(dsn_error("host=db2.internal port=5433 dbname=t user=u password=p sslmode=require"),
              "");
    EXPECT_EQ(dsn_error("postgres://u:p@10.0.0.5:5432/t?sslmode=verify-full"), "");
    EXPECT_EQ(dsn_error("postgresql://u@db-a,db-b/t?target_session_attrs=read-write"), "");
    EXPECT_EQ(dsn_error("hostaddr=10.0.0.5 dbname=t"), "");

    EXPECT_EQ(dsn_error("host=db passfile=/root/.pgpass"), "dedicated_dsn may not set passfile");
    EXPECT_EQ(dsn_error("host=db sslkey=/etc/ssl/private/key.pem"),
              "dedicated_dsn may not set sslkey");
    EXPECT_EQ(dsn_error("host=db sslrootcert=/etc/passwd"),
              "dedicated_dsn may not set sslrootcert");
    EXPECT_EQ(dsn_error("service=prod"), "dedicated_dsn may not set service");
    EXPECT_EQ(dsn_error("host=db options='-c log_statement=all'"),
              "dedicated_dsn may not set options");
    EXPECT_EQ(dsn_error("postgres://db/t?sslcert=/tmp/c"), "dedicated_dsn may not set sslcert");
    EXPECT_EQ(dsn_error("host=/var/run/postgresql dbname=t"),
              "dedicated_dsn host must be a host name or address");
    EXPECT_EQ(dsn_error("host=db,/tmp dbname=t"),
              "dedicated_dsn host must be a host name or address");
    EXPECT_EQ(dsn_error("postgresql://%2Fvar%2Frun%2Fpostgresql/t"),
              "dedicated_dsn host must be a host name or address");
    EXPECT_EQ(dsn_error("dbname=t user=u"), "dedicated_dsn must name a host");
    EXPECT_EQ(dsn_error("mysql://db/t"), "dedicated_dsn must be a postgres:// URL or key=value");
    EXPECT_EQ(dsn_error("host='unterminated"), "dedicated_dsn is not a valid PostgreSQL DSN");
    // The error never quotes the DSN (its password).
    EXPECT_EQ(dsn_error("host=db password=hunter2 sslkey=x").find("hunter2"), std::string::npos);
}

TEST(DedicatedSettings, OtherEndpoints) {
    TenantPatch p;
    p.dedicated_redis_addr = "redis://:pw@cache.internal:6380/2";
    p.dedicated_lavinmq_url = "amqp://u:p@mq.internal/vhost";
    p.dedicated_minio_endpoint = "minio.internal:9000";
    EXPECT_FALSE(validate_dedicated(p).has_value());
    p.dedicated_lavinmq_url = "http://mq.internal";
    EXPECT_EQ(validate_dedicated(p)->message,
              "dedicated_lavinmq_url must be an amqp:// URL (this build has no AMQP TLS)");
    p.dedicated_lavinmq_url.reset();
    p.dedicated_minio_endpoint = "http://minio.internal:9000/bucket";
    EXPECT_EQ(validate_dedicated(p)->message, "dedicated_minio_endpoint must be host[:port]");
    p.dedicated_minio_endpoint = "user@minio:9000";
    EXPECT_TRUE(validate_dedicated(p).has_value());
    p.dedicated_minio_endpoint.reset();
    p.dedicated_redis_addr = "file:///etc/passwd";
    EXPECT_EQ(validate_dedicated(p)->message,
              "dedicated_redis_addr must be host:port or a redis:// URL");
}

TEST(DedicatedSettings, SecretBoxRoundTripsAndDetectsTampering) {
    const SecretBox box("a-tenant-secrets-key-of-at-least-32-bytes");
    const auto sealed = box.seal("host=db password=p");
    EXPECT_TRUE(sealed.starts_with("enc:v1:"));
    EXPECT_EQ(sealed.find("password"), std::string::npos);
    EXPECT_NE(box.seal("host=db password=p"), sealed);  // a nonce per value
    EXPECT_EQ(box.open(sealed).value(), "host=db password=p");
    EXPECT_EQ(box.seal(""), "");
    EXPECT_EQ(box.open("host=legacy").value(), "host=legacy");  // stored before encryption

    std::string altered = sealed;
    altered[altered.size() - 3] = altered[altered.size() - 3] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(box.open(altered).has_value());
    const SecretBox other("another-tenant-secrets-key-of-32-bytes!!");
    EXPECT_FALSE(other.open(sealed).has_value());
    const SecretBox none("");
    EXPECT_FALSE(none.configured());
    EXPECT_FALSE(none.open(sealed).has_value());
}

TEST(DedicatedSettings, ConnectionsNeverOfferTheServersOwnCredentials) {
    const std::string plain = harden_dsn("host=db2 port=5433 dbname=acme user=msg");
    EXPECT_NE(plain.find("host='db2'"), std::string::npos);
    EXPECT_NE(plain.find("dbname='acme'"), std::string::npos);
    EXPECT_NE(plain.find("password=''"), std::string::npos);  // not PGPASSWORD / ~/.pgpass
    EXPECT_NE(plain.find("passfile='/nonexistent'"), std::string::npos);
    EXPECT_NE(plain.find("sslkey='/nonexistent'"), std::string::npos);
    EXPECT_NE(plain.find("gssencmode=disable"), std::string::npos);
    const std::string url = harden_dsn("postgresql://msg:it's%20me@db2:5433/acme?sslmode=require");
    EXPECT_NE(url.find("password='it\\'s me'"), std::string::npos) << url;
    EXPECT_NE(url.find("sslmode='require'"), std::string::npos);
    EXPECT_EQ(url.find("password=''"), std::string::npos);
}

}  // namespace
}  // namespace msg::tenant
