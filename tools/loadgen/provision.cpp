#include "provision.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <random>

#include "auth/jwt.hpp"
#include "core/clock.hpp"
#include "storage/pg/connection.hpp"

namespace msg::loadgen {

namespace asio = boost::asio;

namespace {

asio::awaitable<Population> provision_with(asio::io_context* io, std::string dsn, int rooms,
                                           int members, int messages) {
    pg::Connection::Options o;
    o.dsn = dsn;
    o.statement_timeout = std::chrono::minutes(10);
    auto c = co_await pg::Connection::connect(*io, o);
    Population p;
    p.members = members;
    p.tenant = "lg-" + std::to_string(std::random_device{}() % 1'000'000'000);
    co_await c->execute("BEGIN");
    co_await c->query("INSERT INTO tenants (tenant_id, name) VALUES ($1, $1)", p.tenant);
    auto org = co_await c->query(
        "INSERT INTO org_units (tenant_id, name) VALUES ($1, 'loadgen') RETURNING id", p.tenant);
    const std::int64_t org_id = org.int64(0, 0);
    const int n = rooms * members;
    // '!' is no argon2 hash: these users cannot log in, only use minted tokens.
    auto users = co_await c->query(
        "WITH u AS (INSERT INTO users (tenant_id, org_id, email, name, password_hash)"
        "  SELECT $1, $2, 'lg' || i || '@loadgen.invalid', 'lg' || i, '!'"
        "  FROM generate_series(0, $3 - 1) AS i RETURNING id)"
        " SELECT id FROM u ORDER BY id",
        p.tenant, org_id, n);
    for (int i = 0; i < users.size(); ++i) p.users.push_back(users.int64(i, 0));
    std::vector<std::int64_t> creators;
    for (int r = 0; r < rooms; ++r) {
        creators.push_back(p.users[static_cast<std::size_t>(r) * members]);
    }
    auto made = co_await c->query(
        "WITH r AS (INSERT INTO chat_rooms (tenant_id, name, room_type, created_by, last_seq)"
        "  SELECT $1, 'room ' || n, 'group', creator, $3"
        "  FROM unnest($2::bigint[]) WITH ORDINALITY AS x(creator, n) RETURNING id)"
        " SELECT id FROM r ORDER BY id",
        p.tenant, creators, messages);
    for (int i = 0; i < made.size(); ++i) p.rooms.push_back(made.int64(i, 0));
    std::vector<std::int64_t> member_rooms;
    for (int r = 0; r < rooms; ++r) {
        for (int m = 0; m < members; ++m)
            member_rooms.push_back(p.rooms[static_cast<std::size_t>(r)]);
    }
    co_await c->query(
        "INSERT INTO room_members (tenant_id, room_id, user_id, last_read_seq)"
        " SELECT $1, room, usr, $4"
        " FROM unnest($2::bigint[], $3::bigint[]) AS x(room, usr)",
        p.tenant, member_rooms, p.users, messages);
    if (messages > 0) {
        co_await c->query(
            "INSERT INTO messages (tenant_id, room_id, seq, sender_id, body)"
            " SELECT $1, r.id, s, r.created_by, 'history message ' || s"
            " FROM chat_rooms r, generate_series(1, $2) AS s WHERE r.tenant_id = $1",
            p.tenant, messages);
    }
    co_await c->execute("COMMIT");
    co_return p;
}

}  // namespace

Population provision(const std::string& dsn, const std::string& jwt_secret, int rooms, int members,
                     int messages_per_room) {
    asio::io_context io;
    auto future = asio::co_spawn(io, provision_with(&io, dsn, rooms, members, messages_per_room),
                                 asio::use_future);
    io.run();
    Population p = future.get();
    core::SystemClock clock;
    auth::JwtCodec jwt(jwt_secret, std::chrono::hours(24), clock);
    p.tokens.reserve(p.users.size());
    for (auto id : p.users) p.tokens.push_back(jwt.sign(core::Principal{id, p.tenant, "user"}));
    return p;
}

}  // namespace msg::loadgen
