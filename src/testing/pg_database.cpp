#include "testing/pg_database.hpp"

#include <algorithm>

#include <libpq-fe.h>
#include <unistd.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <random>
#include <stdexcept>
#include <vector>

#include "storage/pg/migrate.hpp"

namespace msg::testing {

namespace asio = boost::asio;

namespace {

void run_admin(const std::string& dsn, const std::string& sql) {
    PGconn* c = PQconnectdb(dsn.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
        std::string err = PQerrorMessage(c);
        PQfinish(c);
        throw std::runtime_error("cannot reach the test cluster: " + err);
    }
    PGresult* r = PQexec(c, sql.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    std::string err = PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(c);
    if (!ok) throw std::runtime_error(sql + ": " + err);
}

asio::awaitable<void> apply_migrations(asio::io_context* io, std::string dsn) {
    pg::Connection::Options o;
    o.dsn = dsn;
    auto conn = co_await pg::Connection::connect(*io, o);
    co_await pg::migrate(*conn, pg::embedded_migrations());
}

struct Database {
    std::string admin_dsn;
    std::string name;
    std::string dsn;
    ~Database() {
        try {
            run_admin(admin_dsn, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        } catch (...) {
            // The cluster is going away with the test run anyway.
        }
    }
};

std::string with_dbname(const std::string& dsn, const std::string& db) {
    // A later keyword overrides an earlier one in the key=value form; URLs are not supported.
    if (dsn.find("://") != std::string::npos) {
        throw std::runtime_error("MSG_TEST_POSTGRES_DSN must use the key=value form");
    }
    return dsn + " dbname=" + db;
}

}  // namespace

namespace {

std::unique_ptr<Database> create_database() {
    const char* admin = std::getenv("MSG_TEST_POSTGRES_DSN");
    if (admin == nullptr || *admin == '\0') {
        throw std::runtime_error(
            "MSG_TEST_POSTGRES_DSN is not set: run the tests through scripts/test.sh (make "
            "test), which starts PostgreSQL");
    }
    static std::atomic<int> made{0};
    auto d = std::make_unique<Database>();
    d->admin_dsn = admin;
    std::random_device rd;
    d->name = "msg_test_" + std::to_string(getpid()) + "_" + std::to_string(rd() % 100000) + "_" +
              std::to_string(++made);
    run_admin(d->admin_dsn, "CREATE DATABASE " + d->name);
    d->dsn = with_dbname(d->admin_dsn, d->name);
    asio::io_context io;
    auto done = asio::co_spawn(io, apply_migrations(&io, d->dsn), asio::use_future);
    io.run();
    done.get();
    return d;
}

}  // namespace

const std::string& test_database_dsn() {
    static std::once_flag once;
    static std::unique_ptr<Database> db;
    std::call_once(once, [] { db = create_database(); });
    if (!db) throw std::runtime_error("test database setup failed earlier");
    return db->dsn;
}

std::string another_test_database_dsn() {
    static std::mutex mutex;
    static std::vector<std::unique_ptr<Database>> made;  // dropped at exit
    auto d = create_database();
    std::string dsn = d->dsn;
    std::lock_guard lock(mutex);
    made.push_back(std::move(d));
    return dsn;
}

std::string replica_admin_dsn() {
    const char* replica = std::getenv("MSG_TEST_POSTGRES_REPLICA_DSN");
    if (replica == nullptr || *replica == '\0') {
        throw std::runtime_error(
            "MSG_TEST_POSTGRES_REPLICA_DSN is not set: run the tests through scripts/test.sh "
            "(make test), which starts a streaming replica of the test cluster");
    }
    return replica;
}

std::string replica_dsn_of(const std::string& dsn) {
    const auto at = dsn.rfind("dbname=");
    if (at == std::string::npos) throw std::runtime_error("no dbname in " + dsn);
    const auto end = dsn.find(' ', at);
    return with_dbname(replica_admin_dsn(), dsn.substr(at + 7, end - (at + 7)));
}

void run_sql(const std::string& dsn, const std::string& sql) { run_admin(dsn, sql); }

pg::PoolOptions test_pool_options(std::size_t max_size) {
    pg::PoolOptions o;
    o.connection.dsn = test_database_dsn();
    o.max_size = max_size;
    return o;
}

std::string unique_tenant(const std::string& prefix) {
    static std::atomic<int> counter{0};
    static const int kSalt = static_cast<int>(std::random_device{}() % 1000000);
    return prefix + "-" + std::to_string(kSalt) + "-" + std::to_string(++counter);
}

core::Task<std::vector<std::int64_t>> create_tenant_with_users(pg::Pool& pool, std::string tenant,
                                                               int users) {
    auto c = co_await pool.acquire();
    co_await c->query("INSERT INTO tenants (tenant_id, name) VALUES ($1, $1)", tenant);
    auto org = co_await c->query(
        "INSERT INTO org_units (tenant_id, name) VALUES ($1, 'HQ') RETURNING id", tenant);
    const std::int64_t org_id = org.int64(0, 0);
    auto rows = co_await c->query(
        "INSERT INTO users (tenant_id, org_id, email, name, password_hash)"
        " SELECT $1, $2, 'u' || i || '@example.com', 'user' || i, 'h'"
        " FROM generate_series(0, $3 - 1) AS i ORDER BY i RETURNING id",
        tenant, org_id, users);
    std::vector<std::int64_t> ids;
    ids.reserve(static_cast<std::size_t>(rows.size()));
    for (int i = 0; i < rows.size(); ++i) ids.push_back(rows.int64(i, 0));
    std::sort(ids.begin(), ids.end());
    co_return ids;
}

}  // namespace msg::testing
