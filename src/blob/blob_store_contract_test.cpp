// One contract, two BlobStores: LocalBlobStore (files) and S3BlobStore against s3rver
// (started by scripts/test.sh; MSG_TEST_S3_ENDPOINT). Presigned URLs are exercised with real
// HTTP transfers on S3; the local store's URLs are served by fileman (checked here through
// verify()).
#include <gtest/gtest.h>

#include <cstdlib>

#include "blob/local_store.hpp"
#include "blob/s3_store.hpp"
#include "core/error.hpp"
#include "testing/co_test.hpp"
#include "testing/temp_dir.hpp"
#include "transport/http_client.hpp"

namespace msg::blob {
namespace {

class FixedClock final : public core::Clock {
  public:
    time_point now() const override { return t; }
    steady_point steady_now() const override { return std::chrono::steady_clock::now(); }
    time_point t = std::chrono::system_clock::now();
};

std::string s3_endpoint() {
    const char* e = std::getenv("MSG_TEST_S3_ENDPOINT");
    if (!e || !*e) {
        throw std::runtime_error(
            "MSG_TEST_S3_ENDPOINT is not set: run the tests through scripts/test.sh (make test), "
            "which starts s3rver");
    }
    return e;
}

core::Task<void> contract(BlobStore& store) {
    co_await store.ensure();
    co_await store.ensure();  // idempotent
    const std::string key = "tenants/t1/rooms/7/사진 (1) #a+b.png";
    const std::string missing_key = "tenants/t1/rooms/7/none.bin";
    auto missing = co_await store.size(missing_key);
    EXPECT_FALSE(missing.has_value());
    auto missing_get = co_await store.get(missing_key, 1024);
    EXPECT_FALSE(missing_get.has_value());

    std::string data(70000, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 % 251);
    const std::string type = "image/png";
    co_await store.put(key, type, data);
    auto size = co_await store.size(key);
    EXPECT_EQ(size, std::optional<std::int64_t>(70000));
    auto back = co_await store.get(key, 1 << 20);
    CO_ASSERT(back.has_value());
    EXPECT_TRUE(*back == data);
    bool too_big = false;
    try {
        co_await store.get(key, 1000);  // bounded: refused, not read whole
    } catch (const core::UnavailableException&) {
        too_big = true;
    }
    EXPECT_TRUE(too_big);
    const std::string replaced = "short now";
    co_await store.put(key, type, replaced);
    auto again = co_await store.get(key, 1 << 20);
    EXPECT_EQ(again, std::optional<std::string>(replaced));
}

CO_TEST(BlobStoreContract, Local) {
    ::msg::testing::TempDir dir;
    core::BlockingPool blocking(1);
    FixedClock clock;
    LocalBlobStore store(blocking, clock, {dir.path, "http://files.test", std::string(40, 'k')});
    co_await contract(store);
    blocking.stop();
}

CO_TEST(BlobStoreContract, S3AgainstS3rver) {
    transport::BeastHttpClient http;
    core::SystemClock clock;
    S3BlobStore store(http, clock, {s3_endpoint(), "", "contract-bucket", {"S3RVER", "S3RVER"}});
    co_await contract(store);
}

// The presigned URLs move real bytes: PUT with one URL (its type and length signed), GET with
// another (answered as an attachment); an unknown access key or an expired URL is refused.
CO_TEST(S3BlobStore, PresignedUrlsTransferBytes) {
    transport::BeastHttpClient http;
    FixedClock clock;
    S3BlobStore store(http, clock, {s3_endpoint(), "", "presign-bucket", {"S3RVER", "S3RVER"}});
    co_await store.ensure();
    const std::string key = "tenants/t2/users/5/보고서 최종.txt";
    const std::string text = "hello from a presigned PUT";
    const auto size = static_cast<std::int64_t>(text.size());
    const auto put = store.presign_put(key, std::chrono::seconds(900), {"text/plain", size});
    EXPECT_NE(put.url.find("&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost&"),
              std::string::npos)
        << put.url;
    core::ClientRequest up;
    up.method = core::Method::put;
    up.url = put.url;
    up.body = text;
    up.content_type = "text/plain";
    auto uploaded = co_await http.send(up);
    EXPECT_EQ(uploaded.status, 200u) << uploaded.body;

    const auto get = store.presign_get(key, std::chrono::seconds(900));
    core::ClientRequest down;
    down.method = core::Method::get;
    down.url = get.url;
    auto downloaded = co_await http.send(down);
    EXPECT_EQ(downloaded.status, 200u);
    EXPECT_EQ(downloaded.body, text);
    EXPECT_EQ(downloaded.header("content-disposition"), "attachment");
    EXPECT_EQ(downloaded.header("content-type"), "text/plain");

    // s3rver checks the access key and the expiry, not the signature bytes (a tampered
    // signature passes there: the AWS examples and the botocore cross-check pin those).
    S3BlobStore stranger(http, clock, {s3_endpoint(), "", "presign-bucket", {"NOBODY", "S3RVER"}});
    core::ClientRequest unknown_key = down;
    unknown_key.url = stranger.presign_get(key, std::chrono::seconds(900)).url;
    auto refused = co_await http.send(unknown_key);
    EXPECT_EQ(refused.status, 403u);

    clock.t -= std::chrono::hours(2);  // signed two hours ago, valid for one second
    const auto stale = store.presign_get(key, std::chrono::seconds(1));
    core::ClientRequest late = down;
    late.url = stale.url;
    auto expired = co_await http.send(late);
    EXPECT_EQ(expired.status, 403u);
}

TEST(LocalBlobStore, SignedUrlsAreBoundToMethodKeyTimeAndTerms) {
    ::msg::testing::TempDir dir;
    core::BlockingPool blocking(1);
    FixedClock clock;
    LocalBlobStore store(blocking, clock, {dir.path, "http://files.test/", std::string(40, 'k')});
    const std::string key = "tenants/t/rooms/1/a b.png";
    const auto url = store.presign_put(key, std::chrono::seconds(60), {}).url;
    ASSERT_TRUE(url.starts_with("http://files.test/blobs/tenants/t/rooms/1/a%20b.png?exp="));
    const auto exp = url.substr(url.find("exp=") + 4, url.find("&sig=") - url.find("exp=") - 4);
    const auto sig = url.substr(url.find("&sig=") + 5);
    EXPECT_TRUE(store.verify("PUT", key, exp, sig));
    EXPECT_FALSE(store.verify("GET", key, exp, sig));                        // other method
    EXPECT_FALSE(store.verify("PUT", "tenants/t/rooms/1/b.png", exp, sig));  // other key
    EXPECT_FALSE(store.verify("PUT", key, std::to_string(std::stoll(exp) + 3600), sig));
    std::string flipped = sig;
    flipped[0] = flipped[0] == 'a' ? 'b' : 'a';
    EXPECT_FALSE(store.verify("PUT", key, exp, flipped));
    EXPECT_FALSE(store.verify("PUT", key, exp, ""));
    EXPECT_FALSE(store.verify("PUT", key, exp, sig, "text/html", ""));  // terms added later
    EXPECT_FALSE(store.verify("PUT", key, exp, sig, "", "5"));

    const auto bound = store.presign_put(key, std::chrono::seconds(60), {"image/png", 5}).url;
    ASSERT_NE(bound.find("&ct=image%2Fpng&len=5&sig="), std::string::npos) << bound;
    const auto bound_sig = bound.substr(bound.find("&sig=") + 5);
    EXPECT_TRUE(store.verify("PUT", key, exp, bound_sig, "image/png", "5"));
    EXPECT_FALSE(store.verify("PUT", key, exp, bound_sig, "text/html", "5"));
    EXPECT_FALSE(store.verify("PUT", key, exp, bound_sig, "image/png", "6"));
    EXPECT_FALSE(store.verify("PUT", key, exp, bound_sig));
    const auto once =
        store.presign_put(key, std::chrono::seconds(60), {"", std::nullopt, true}).url;
    ASSERT_NE(once.find("?exp=" + exp + "&new=1&sig="), std::string::npos) << once;
    const auto once_sig = once.substr(once.find("&sig=") + 5);
    EXPECT_TRUE(store.verify("PUT", key, exp, once_sig, "", "", "1"));
    EXPECT_FALSE(store.verify("PUT", key, exp, once_sig));  // dropping new=1 breaks the URL
    clock.t += std::chrono::seconds(61);                    // expired
    EXPECT_FALSE(store.verify("PUT", key, exp, sig));
    blocking.stop();
}

TEST(BlobKeys, Rules) {
    EXPECT_TRUE(valid_key("tenants/t/rooms/1/사진.png"));
    EXPECT_TRUE(valid_key("notes/a..b.txt"));  // dots inside a name are fine
    for (std::string_view bad :
         {"", "/abs", "a/../b", "../x", "a/./b", "a//b", "dir/", "a\\b", "tab\there", "\x7f"}) {
        EXPECT_FALSE(valid_key(bad)) << bad;
    }
    EXPECT_FALSE(valid_key(std::string_view("nul\0x", 5)));
    EXPECT_FALSE(valid_key(std::string(513, 'a')));
    EXPECT_TRUE(valid_key(std::string(512, 'a')));
    EXPECT_FALSE(valid_key("bad\xff utf8"));
    EXPECT_FALSE(valid_key("cut\xea\xb0"));
    // Overlong forms (of '/', '.', U+2F42), a surrogate, past U+10FFFF (found by fuzz_file_key).
    for (std::string_view bad :
         {"a\xc0\xaf"
          "b",
          "x\xe0\x80\xae", "e\xf0\x82\xbd\x82", "s\xed\xa0\x80", "big\xf4\x90\x80\x80"}) {
        EXPECT_FALSE(valid_key(bad)) << bad;
    }
    EXPECT_TRUE(valid_key("emoji\xf0\x9f\x98\x80/max\xf4\x8f\xbf\xbf"));
}

}  // namespace
}  // namespace msg::blob
