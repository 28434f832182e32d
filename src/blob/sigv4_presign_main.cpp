// Reads one JSON object per line — {"method","scheme","host","path","now","expires",
// "access_key","secret_key","region", "headers"?, "query"?} (the last two arrays of
// [name, value]: signed headers, URL parameters) — and prints the presigned URL for each: the C++
// side of the botocore cross-check (tests/blackbox/test_sigv4.py). Not part of the server.
#include <boost/json.hpp>
#include <iostream>
#include <string>
#include <string_view>

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
        for (const char* field : {"headers", "query"}) {
            const auto* pairs = o.if_contains(field);
            if (!pairs) continue;
            auto& out = std::string_view(field) == "headers" ? r.headers : r.query;
            for (const auto& p : pairs->as_array()) {
                const auto& pair = p.as_array();
                out.emplace_back(pair.at(0).as_string(), pair.at(1).as_string());
            }
        }
        std::cout << msg::blob::presign_url(c, r) << "\n";
    }
}
