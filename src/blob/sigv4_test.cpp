#include <gtest/gtest.h>

#include "blob/sigv4.hpp"
#include "core/time.hpp"

namespace msg::blob {
namespace {

// AWS's published examples ("Signature Calculations for the Authorization Header" and
// "Authenticating Requests: Using Query Parameters", S3 API reference): the example
// credentials, examplebucket, 2013-05-24T00:00:00Z.
const Credentials kAws{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                       "us-east-1"};

std::chrono::system_clock::time_point at_2013_05_24() {
    return std::chrono::system_clock::from_time_t(1369353600);  // 2013-05-24T00:00:00Z
}

TEST(SigV4, AwsPresignedUrlExample) {
    PresignRequest r;
    r.method = "GET";
    r.scheme = "https";
    r.host = "examplebucket.s3.amazonaws.com";
    r.path = "/test.txt";
    r.now = at_2013_05_24();
    r.expires = std::chrono::seconds(86400);
    EXPECT_EQ(presign_url(kAws, r),
              "https://examplebucket.s3.amazonaws.com/test.txt"
              "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
              "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
              "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
              "&X-Amz-Signature="
              "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, AwsGetObjectHeaderExample) {
    SignedRequest r;
    r.method = "GET";
    r.host = "examplebucket.s3.amazonaws.com";
    r.path = "/test.txt";
    r.payload_sha256_hex = sha256_hex("");
    r.headers = {{"range", "bytes=0-9"},
                 {"x-amz-content-sha256", r.payload_sha256_hex},
                 {"x-amz-date", "20130524T000000Z"}};
    r.now = at_2013_05_24();
    EXPECT_EQ(authorization_header(kAws, r),
              "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
              "aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
              "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, AwsPutObjectHeaderExample) {
    SignedRequest r;
    r.method = "PUT";
    r.host = "examplebucket.s3.amazonaws.com";
    r.path = "/test$file.text";
    r.payload_sha256_hex = sha256_hex("Welcome to Amazon S3.");
    r.headers = {{"date", "Fri, 24 May 2013 00:00:00 GMT"},
                 {"x-amz-content-sha256", r.payload_sha256_hex},
                 {"x-amz-date", "20130524T000000Z"},
                 {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
    r.now = at_2013_05_24();
    EXPECT_EQ(authorization_header(kAws, r),
              "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
              "aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
              "x-amz-storage-class,"
              "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, UriEncoding) {
    EXPECT_EQ(uri_encode("rooms/1/사진 (1).png", true), "rooms/1/%EC%82%AC%EC%A7%84%20%281%29.png");
    EXPECT_EQ(uri_encode("a/b~c_d-e.f", false), "a%2Fb~c_d-e.f");
    EXPECT_EQ(uri_encode("+=&?#%", true), "%2B%3D%26%3F%23%25");
}

}  // namespace
}  // namespace msg::blob
