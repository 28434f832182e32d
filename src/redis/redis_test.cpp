#include <gtest/gtest.h>

#include "redis/address.hpp"
#include "redis/connection.hpp"
#include "testing/redis_server.hpp"

namespace msg::redis {
namespace {

TEST(Address, HostAndPort) {
    auto a = parse_address("cache:6380");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "cache");
    EXPECT_EQ(a->port, 6380);
    EXPECT_EQ(a->db, 0);
    EXPECT_TRUE(a->password.empty());
    auto bare = parse_address("cache");
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->port, 6379);
}

TEST(Address, UrlWithPasswordAndDatabase) {
    auto a = parse_address("redis://:s3cret@cache:6390/3");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->host, "cache");
    EXPECT_EQ(a->port, 6390);
    EXPECT_EQ(a->password, "s3cret");
    EXPECT_TRUE(a->user.empty());
    EXPECT_EQ(a->db, 3);
    EXPECT_EQ(a->describe(), "cache:6390/3");  // never the password
    auto acl = parse_address("redis://app:pw@cache");
    ASSERT_TRUE(acl);
    EXPECT_EQ(acl->user, "app");
    EXPECT_EQ(acl->password, "pw");
}

TEST(Address, RefusesWhatItCannotServe) {
    EXPECT_FALSE(parse_address("rediss://cache:6379"));
    EXPECT_FALSE(parse_address("http://cache:6379"));
    EXPECT_FALSE(parse_address("cache:0"));
    EXPECT_FALSE(parse_address("cache:70000"));
    EXPECT_FALSE(parse_address("cache:x"));
    EXPECT_FALSE(parse_address(":6379"));
    EXPECT_FALSE(parse_address("redis://cache/16"));
    EXPECT_FALSE(parse_address("secret@cache:6379"));  // never a host named after a password
    EXPECT_FALSE(parse_address("cache:6379/2"));
}

TEST(Connection, CommandsAndPipelining) {
    testing::RedisServer server;
    Connection c(server.address(), std::chrono::milliseconds(1000));
    auto pong = c.command({"PING"});
    EXPECT_EQ(text(*pong), "PONG");
    for (int i = 0; i < 10; ++i) c.append({"RPUSH", "list", std::to_string(i)});
    c.flush();
    for (int i = 0; i < 10; ++i) EXPECT_EQ(c.read()->integer, i + 1);
    EXPECT_THROW(c.command({"NOSUCHCOMMAND"}), std::runtime_error);
}

TEST(Connection, FailsClearlyWhenNothingListens) {
    testing::RedisServer server;
    const auto address = server.address();
    server.stop();
    try {
        Connection c(address, std::chrono::milliseconds(500));
        FAIL() << "connected to a stopped server";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find(address.describe()), std::string::npos) << e.what();
    }
}

TEST(Connection, AuthenticatesAndSelects) {
    testing::RedisServer server;
    {
        Connection admin(server.address(), std::chrono::milliseconds(1000));
        admin.command({"CONFIG", "SET", "requirepass", "pw-1"});
    }
    auto with = server.address();
    with.password = "pw-1";
    with.db = 2;
    Connection c(with, std::chrono::milliseconds(1000));
    c.command({"SET", "k", "v"});
    EXPECT_EQ(c.command({"DBSIZE"})->integer, 1);
    auto wrong = server.address();
    wrong.password = "nope";
    EXPECT_THROW(Connection(wrong, std::chrono::milliseconds(1000)), std::runtime_error);
}

}  // namespace
}  // namespace msg::redis
