#include <gtest/gtest.h>

#include "amqp/url.hpp"

namespace msg::amqp {
namespace {

TEST(Url, SeedDefault) {
    auto u = parse_url("amqp://guest:guest@localhost:5672/");
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_EQ(u->host, "localhost");
    EXPECT_EQ(u->port, 5672);
    EXPECT_EQ(u->user, "guest");
    EXPECT_EQ(u->password, "guest");
    EXPECT_EQ(u->vhost, "/");  // an empty path is the default vhost, as the seed's client reads it
}

TEST(Url, VhostAndDefaults) {
    auto u = parse_url("amqp://mq.internal/chat%2fprod");
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_EQ(u->host, "mq.internal");
    EXPECT_EQ(u->port, 5672);
    EXPECT_EQ(u->vhost, "chat/prod");
    auto p = parse_url("amqp://app:s3cr%40t@broker:5673/v");
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->user, "app");
    EXPECT_EQ(p->password, "s3cr@t");
    EXPECT_EQ(p->port, 5673);
}

TEST(Url, DescribeNeverShowsThePassword) {
    auto u = parse_url("amqp://app:hunter2@broker:5673/v");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->describe(), "amqp://app:***@broker:5673/v");
    EXPECT_EQ(u->describe().find("hunter2"), std::string::npos);
}

TEST(Url, Refused) {
    EXPECT_FALSE(parse_url(""));
    EXPECT_FALSE(parse_url("broker:5672"));
    EXPECT_FALSE(parse_url("http://broker/"));
    EXPECT_FALSE(parse_url("amqp://broker:notaport/"));
    EXPECT_FALSE(parse_url("amqp://broker:70000/"));
    EXPECT_FALSE(parse_url("amqp:///"));
    auto tls = parse_url("amqps://broker/");
    ASSERT_FALSE(tls);
    EXPECT_NE(tls.error().message.find("TLS"), std::string::npos);
    EXPECT_FALSE(parse_url("amqp://" + std::string(3000, 'a')));
}

}  // namespace
}  // namespace msg::amqp
