#include "testing/pg_database.hpp"

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
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
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

const std::string& test_database_dsn() {
    static std::once_flag once;
    static std::unique_ptr<Database> db;
    std::call_once(once, [] {
        const char* admin = std::getenv("MSG_TEST_POSTGRES_DSN");
        if (admin == nullptr || *admin == '\0') {
            throw std::runtime_error(
                "MSG_TEST_POSTGRES_DSN is not set: run the tests through scripts/test.sh (make "
                "test), which starts PostgreSQL");
        }
        auto d = std::make_unique<Database>();
        d->admin_dsn = admin;
        std::random_device rd;
        d->name = "msg_test_" + std::to_string(getpid()) + "_" + std::to_string(rd() % 100000);
        run_admin(d->admin_dsn, "CREATE DATABASE " + d->name);
        d->dsn = with_dbname(d->admin_dsn, d->name);
        asio::io_context io;
        auto done = asio::co_spawn(io, apply_migrations(&io, d->dsn), asio::use_future);
        io.run();
        done.get();
        db = std::move(d);
    });
    if (!db) throw std::runtime_error("test database setup failed earlier");
    return db->dsn;
}

pg::PoolOptions test_pool_options(std::size_t max_size) {
    pg::PoolOptions o;
    o.connection.dsn = test_database_dsn();
    o.max_size = max_size;
    return o;
}

std::string unique_tenant(const std::string& prefix) {
    static std::atomic<int> counter{0};
    static const int salt = static_cast<int>(std::random_device{}() % 1000000);
    return prefix + "-" + std::to_string(salt) + "-" + std::to_string(++counter);
}

}  // namespace msg::testing
