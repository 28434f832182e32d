#include "vector/embedder.hpp"

#include <boost/json.hpp>
#include <cmath>

#include "core/error.hpp"
#include "search/tokenizer.hpp"

namespace msg::vector {

namespace json = boost::json;

void l2_normalize(Vector& v) {
    double sum = 0;
    for (float x : v) sum += static_cast<double>(x) * x;
    if (sum == 0) return;
    const auto inv = static_cast<float>(1.0 / std::sqrt(sum));
    for (float& x : v) x *= inv;
}

float dot(const Vector& a, const Vector& b) {
    float s = 0;
    const std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) s += a[i] * b[i];
    return s;
}

namespace {

std::uint64_t fnv1a(std::string_view bytes, std::uint64_t seed) {
    std::uint64_t h = 14695981039346656037ull ^ seed;
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

/// Byte offsets of each code point of valid UTF-8 (normalize() output), plus the end.
std::vector<std::size_t> code_point_starts(std::string_view s) {
    std::vector<std::size_t> starts;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
    }
    starts.push_back(s.size());
    return starts;
}

}  // namespace

Vector HashedNgramEmbedder::embed_one(std::string_view text) const {
    // " text " with whitespace runs collapsed, so word edges are n-gram features too.
    std::string padded = " ";
    for (char c : search::normalize(text)) {
        const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        if (space && padded.back() == ' ') continue;
        padded += space ? ' ' : c;
    }
    if (padded.back() != ' ') padded += ' ';
    Vector v(dimension_, 0.0f);
    if (padded.size() <= 1) return v;  // nothing but whitespace: the zero vector
    const auto starts = code_point_starts(padded);
    const std::size_t points = starts.size() - 1;
    for (std::size_t n = 2; n <= 3; ++n) {
        for (std::size_t i = 0; i + n <= points; ++i) {
            const std::string_view gram(padded.data() + starts[i], starts[i + n] - starts[i]);
            const std::uint64_t h = fnv1a(gram, n);
            v[h % dimension_] += (h >> 63) ? 1.0f : -1.0f;
        }
    }
    l2_normalize(v);
    return v;
}

core::Task<std::vector<Vector>> HashedNgramEmbedder::embed(const std::vector<std::string>& texts) {
    std::vector<Vector> out;
    out.reserve(texts.size());
    auto work = [&] {
        for (const auto& t : texts) out.push_back(embed_one(t));
    };
    if (blocking_) {
        co_await blocking_->run(work);
    } else {
        work();
    }
    co_return out;
}

HttpEmbedder::HttpEmbedder(core::HttpClient& http, Options options)
    : http_(http), options_(std::move(options)) {
    url_ = options_.endpoint;
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
    if (!url_.ends_with("/embeddings")) {
        url_ += url_.ends_with("/v1") ? "/embeddings" : "/v1/embeddings";
    }
}

core::Task<std::vector<Vector>> HttpEmbedder::embed(const std::vector<std::string>& texts) {
    json::array input;
    for (const auto& t : texts) input.emplace_back(t);
    core::ClientRequest req;
    req.url = url_;
    req.body = json::serialize(json::object{{"model", options_.model}, {"input", input}});
    if (!options_.api_key.empty())
        req.headers.emplace_back("Authorization", "Bearer " + options_.api_key);
    auto res = co_await http_.send(req);
    if (res.status < 200 || res.status >= 300) {
        throw core::UnavailableException("embedding endpoint answered " +
                                         std::to_string(res.status));
    }
    std::vector<Vector> out(texts.size());
    std::vector<bool> filled(texts.size(), false);
    try {
        const auto body = json::parse(res.body);
        for (const auto& item : body.at("data").as_array()) {
            const auto index = static_cast<std::size_t>(item.at("index").to_number<std::int64_t>());
            const auto& values = item.at("embedding").as_array();
            if (index >= out.size() || values.size() != options_.dimension) {
                throw std::runtime_error("embedding index or dimension does not match");
            }
            Vector v;
            v.reserve(values.size());
            for (const auto& x : values) v.push_back(static_cast<float>(x.to_number<double>()));
            l2_normalize(v);
            out[index] = std::move(v);
            filled[index] = true;
        }
    } catch (const std::exception& e) {
        throw core::UnavailableException(std::string("embedding endpoint answer: ") + e.what());
    }
    for (bool f : filled) {
        if (!f) throw core::UnavailableException("embedding endpoint left inputs out");
    }
    co_return out;
}

}  // namespace msg::vector
