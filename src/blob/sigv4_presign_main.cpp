// Reads one JSON object per line — {"method","scheme","host","path","now","expires",
// "access_key","secret_key","region"} — and prints the presigned URL for each: the C++ side of
// the botocore cross-check (tests/blackbox/test_sigv4.py). Not part of the server.
#include <boost/json.hpp>
#include <iostream>
#include <string>

#include "blob/sigv4.hpp"

int main() {
    namespace json = boost::json;
    std::string line;
    while (std::getline(std::cin, line)) {
        const auto o = json::parse(line).as_object();
        msg::blob::Credentials c{std::string(o.at("access_key").as_string()),
                                 std::string(o.at("secret_key").as_string()),
                                 std::string(o.at("region").as_string())};
        msg::blob::PresignRequest r;
        r.method = std::string(o.at("method").as_string());
        r.scheme = std::string(o.at("scheme").as_string());
        r.host = std::string(o.at("host").as_string());
        r.path = std::string(o.at("path").as_string());
        r.now = std::chrono::system_clock::from_time_t(o.at("now").to_number<std::int64_t>());
        r.expires = std::chrono::seconds(o.at("expires").to_number<std::int64_t>());
        std::cout << msg::blob::presign_url(c, r) << "\n";
    }
}
