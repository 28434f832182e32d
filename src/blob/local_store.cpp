#include "blob/local_store.hpp"

#include <charconv>
#include <fstream>
#include <stdexcept>

#include "blob/sigv4.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/random.hpp"
#include "core/text.hpp"

namespace msg::blob {

namespace fs = std::filesystem;

namespace {

// Keys and content types hold no line breaks (valid_key, the files handler), so the fields
// cannot run into each other.
std::string signing_input(std::string_view method, std::string_view key, std::string_view exp,
                          std::string_view ct, std::string_view len, std::string_view once) {
    std::string s(method);
    for (std::string_view field : {key, exp, ct, len, once}) {
        s += '\n';
        s += field;
    }
    return s;
}

}  // namespace

LocalBlobStore::LocalBlobStore(core::BlockingPool& blocking, const core::Clock& clock,
                               Options options)
    : blocking_(blocking), clock_(clock), options_(std::move(options)) {
    while (!options_.public_base_url.empty() && options_.public_base_url.back() == '/') {
        options_.public_base_url.pop_back();
    }
}

core::Task<void> LocalBlobStore::ensure() {
    fs::create_directories(options_.dir);
    co_return;
}

fs::path LocalBlobStore::path_of(std::string_view key) const {
    if (!valid_key(key)) throw std::invalid_argument("invalid object key");
    return options_.dir / fs::path(std::string(key));
}

PresignedUrl LocalBlobStore::presign(std::string_view method, std::string_view key,
                                     std::chrono::seconds ttl, const UploadTerms& terms,
                                     std::string_view base_hint) const {
    const auto expires_at = std::chrono::time_point_cast<std::chrono::seconds>(clock_.now() + ttl);
    const std::string exp = std::to_string(expires_at.time_since_epoch().count());
    const std::string len = terms.size_bytes ? std::to_string(*terms.size_bytes) : "";
    const std::string once = terms.create_only ? "1" : "";
    const std::string sig = hmac_sha256_hex(
        options_.secret, signing_input(method, key, exp, terms.content_type, len, once));
    std::string base =
        options_.public_base_url.empty() ? std::string(base_hint) : options_.public_base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    std::string url = base + "/blobs/" + uri_encode(key, true) + "?exp=" + exp;
    if (!terms.content_type.empty()) url += "&ct=" + uri_encode(terms.content_type, false);
    if (!len.empty()) url += "&len=" + len;
    if (!once.empty()) url += "&new=" + once;
    return {url + "&sig=" + sig, expires_at};
}

PresignedUrl LocalBlobStore::presign_put(std::string_view key, std::chrono::seconds ttl,
                                         const UploadTerms& terms,
                                         std::string_view base_hint) const {
    return presign("PUT", key, ttl, terms, base_hint);
}

PresignedUrl LocalBlobStore::presign_get(std::string_view key, std::chrono::seconds ttl,
                                         std::string_view base_hint) const {
    return presign("GET", key, ttl, {}, base_hint);
}

bool LocalBlobStore::verify(std::string_view method, std::string_view key, std::string_view exp,
                            std::string_view sig, std::string_view ct, std::string_view len,
                            std::string_view once) const {
    if (!valid_key(key)) return false;
    std::int64_t expires = 0;
    auto [end, ec] = std::from_chars(exp.data(), exp.data() + exp.size(), expires);
    if (ec != std::errc{} || end != exp.data() + exp.size()) return false;
    const std::string want =
        hmac_sha256_hex(options_.secret, signing_input(method, key, exp, ct, len, once));
    if (!core::constant_time_equal(sig, want)) return false;
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch());
    return now.count() <= expires;
}

core::Task<std::optional<std::int64_t>> LocalBlobStore::size(const std::string& key) {
    const fs::path path = path_of(key);
    std::optional<std::int64_t> out;
    co_await blocking_.run([&] {
        std::error_code ec;
        const auto n = fs::file_size(path, ec);
        if (!ec) out = static_cast<std::int64_t>(n);
    });
    co_return out;
}

core::Task<std::optional<std::string>> LocalBlobStore::get(const std::string& key,
                                                           std::size_t max_bytes) {
    const fs::path path = path_of(key);
    std::optional<std::string> out;
    co_await blocking_.run([&] {
        std::error_code ec;
        const auto n = fs::file_size(path, ec);
        if (ec) return;
        if (n > max_bytes) throw core::UnavailableException("object is larger than allowed");
        std::ifstream in(path, std::ios::binary);
        std::string data(n, '\0');
        in.read(data.data(), static_cast<std::streamsize>(n));
        if (!in) throw core::UnavailableException("cannot read object");
        out = std::move(data);
    });
    co_return out;
}

core::Task<void> LocalBlobStore::put(const std::string& key, const std::string&,
                                     const std::string& data) {
    const fs::path path = path_of(key);
    co_await blocking_.run([&] {
        fs::create_directories(path.parent_path());
        try {
            core::write_file_atomically(path, data);
        } catch (const std::exception&) {
            throw core::UnavailableException("cannot write object");
        }
    });
}

bool valid_key(std::string_view key) {
    if (key.empty() || key.size() > 512 || key.front() == '/' || key.back() == '/') return false;
    std::size_t start = 0;
    while (start <= key.size()) {
        const auto slash = key.find('/', start);
        const auto segment =
            key.substr(start, slash == std::string_view::npos ? key.npos : slash - start);
        if (segment.empty() || segment == "." || segment == "..") return false;
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    // Control characters, DEL and backslashes; then UTF-8 well-formedness (an overlong
    // form of '/' or '.' must not pass as another byte string than it means).
    for (const char ch : key) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f || c == '\\') return false;
    }
    return core::valid_utf8(key);
}

}  // namespace msg::blob
