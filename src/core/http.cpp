#include "core/http.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace msg::core {

std::string_view to_string(Method m) {
    switch (m) {
        case Method::get:
            return "GET";
        case Method::head:
            return "HEAD";
        case Method::post:
            return "POST";
        case Method::put:
            return "PUT";
        case Method::patch:
            return "PATCH";
        case Method::del:
            return "DELETE";
        case Method::options:
            return "OPTIONS";
        case Method::other:
            break;
    }
    return "OTHER";
}

std::string_view to_string(Access a) {
    switch (a) {
        case Access::open:
            return "open";
        case Access::authenticated:
            return "authenticated";
        case Access::admin_or_manager:
            return "admin_or_manager";
        case Access::internal:
            return "internal";
    }
    return "unknown";
}

std::optional<std::string_view> HttpRequest::bearer_token() const {
    constexpr std::string_view kBearer = "Bearer ";
    const std::string_view header = authorization;
    if (!header.starts_with(kBearer)) return std::nullopt;
    return header.substr(kBearer.size());
}

std::string_view HttpRequest::param(std::string_view name) const {
    for (const auto& [k, v] : path_params) {
        if (k == name) return v;
    }
    return {};
}

namespace {
int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
                   hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::optional<std::string> percent_decode_path(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size() || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0) {
            return std::nullopt;
        }
        out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
        i += 2;
    }
    return out;
}

std::optional<std::string> query_value(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        auto eq = pair.find('=');
        std::string_view key = pair.substr(0, eq);
        if (percent_decode(key) != name) continue;
        return eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1));
    }
    return std::nullopt;
}

std::optional<std::string> HttpRequest::query_param(std::string_view name) const {
    return query_value(query, name);
}

int HttpRequest::limit_param(std::string_view name, int fallback, int max) const {
    auto text = query_param(name);
    if (!text || text->empty() || text->size() > 9) return fallback;
    int v = 0;
    for (char c : *text) {
        if (c < '0' || c > '9') return fallback;
        v = v * 10 + (c - '0');
    }
    return (v <= 0 || v > max) ? fallback : v;
}

HttpResponse json_response(unsigned status, const boost::json::value& body) {
    HttpResponse r;
    r.status = status;
    r.body = boost::json::serialize(body);
    return r;
}

HttpResponse ok_response() { return HttpResponse{200, R"({"ok":true})", "application/json", {}}; }

HttpResponse id_response(unsigned status, std::int64_t id) {
    return HttpResponse{status, R"({"id":)" + std::to_string(id) + "}", "application/json", {}};
}

}  // namespace msg::core
