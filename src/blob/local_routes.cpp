#include "blob/local_routes.hpp"

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "auth/password.hpp"
#include "core/files.hpp"

namespace msg::blob {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "/blobs/";
constexpr std::size_t kChunk = 256 * 1024;

std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        auto hex = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

std::string query_value(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto pair = query.substr(0, amp);
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) == name && eq != std::string_view::npos) {
            return percent_decode(pair.substr(eq + 1)).value_or("");
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return {};
}

core::Task<void> answer(core::StreamIo& io, unsigned status, std::string_view error) {
    const std::string body = boost::json::serialize(
        status < 300 ? boost::json::object{{"ok", true}} : boost::json::object{{"error", error}});
    co_await io.write_head(status, "application/json", body.size());
    co_await io.write(body);
}

core::Task<void> receive(LocalBlobStore& store, core::BlockingPool& blocking,
                         std::uint64_t max_upload, const std::string& key,
                         const core::StreamRequest& req, core::StreamIo& io) {
    if (req.content_length && *req.content_length > max_upload) {
        co_await answer(io, 413, "upload too large");
        co_return;
    }
    const fs::path target = store.path_of(key);
    const fs::path tmp = fs::path(target).concat(".tmp-" + auth::random_hex(8));
    std::FILE* file = nullptr;
    co_await blocking.run([&] {
        fs::create_directories(target.parent_path());
        file = std::fopen(tmp.c_str(), "wb");
    });
    if (!file) {
        co_await answer(io, 500, "cannot store the upload");
        co_return;
    }
    std::string chunk(kChunk, '\0');
    std::uint64_t total = 0;
    bool too_large = false, failed = false;
    try {
        for (;;) {
            const std::size_t n = co_await io.read_some(chunk.data(), chunk.size());
            if (n == 0) break;
            total += n;
            if (total > max_upload) {
                too_large = true;
                break;
            }
            bool wrote = false;
            co_await blocking.run([&] { wrote = std::fwrite(chunk.data(), 1, n, file) == n; });
            if (!wrote) {
                failed = true;
                break;
            }
        }
    } catch (...) {
        failed = true;  // the client went away mid-body: nothing is kept
    }
    bool stored = false;
    co_await blocking.run([&] {
        const bool flushed = std::fflush(file) == 0;
        std::fclose(file);
        if (failed || too_large || !flushed) {
            std::error_code ignored;
            fs::remove(tmp, ignored);
            return;
        }
        core::fsync_path(tmp);
        fs::rename(tmp, target);
        stored = true;
    });
    if (too_large) {
        co_await answer(io, 413, "upload too large");
    } else if (stored) {
        co_await answer(io, 200, "");
    } else if (!failed) {
        co_await answer(io, 500, "cannot store the upload");
    }
}

core::Task<void> send_file(core::BlockingPool& blocking, const fs::path& path, core::StreamIo& io) {
    std::FILE* file = nullptr;
    std::uint64_t size = 0;
    co_await blocking.run([&] {
        std::error_code ec;
        size = fs::file_size(path, ec);
        if (!ec) file = std::fopen(path.c_str(), "rb");
    });
    if (!file) {
        co_await answer(io, 404, "not found");
        co_return;
    }
    std::string chunk(kChunk, '\0');
    try {
        co_await io.write_head(200, "application/octet-stream", size);
        std::uint64_t left = size;
        while (left > 0) {
            std::size_t n = 0;
            co_await blocking.run([&] { n = std::fread(chunk.data(), 1, chunk.size(), file); });
            if (n == 0) break;  // truncated meanwhile: the peer sees a short body
            const std::string_view view(chunk.data(), std::min<std::uint64_t>(n, left));
            co_await io.write(view);
            left -= view.size();
        }
    } catch (...) {
        std::fclose(file);
        throw;
    }
    std::fclose(file);
}

core::Task<void> serve(LocalBlobStore* store, core::BlockingPool* blocking,
                       std::uint64_t max_upload, const core::StreamRequest& req,
                       core::StreamIo& io) {
    const auto key = percent_decode(std::string_view(req.path).substr(kPrefix.size()));
    if (!key || !valid_key(*key)) {
        co_await answer(io, 400, "object key is invalid");
        co_return;
    }
    const bool put = req.method == core::Method::put, get = req.method == core::Method::get;
    if (!put && !get) {
        co_await answer(io, 405, "method not allowed");
        co_return;
    }
    const std::string exp = query_value(req.query, "exp");
    const std::string sig = query_value(req.query, "sig");
    if (!store->verify(put ? "PUT" : "GET", *key, exp, sig)) {
        co_await answer(io, 403, "invalid or expired signature");
        co_return;
    }
    if (put) {
        co_await receive(*store, *blocking, max_upload, *key, req, io);
    } else {
        const fs::path path = store->path_of(*key);
        co_await send_file(*blocking, path, io);
    }
}

}  // namespace

core::StreamRoute local_blob_route(LocalBlobStore& store, core::BlockingPool& blocking,
                                   std::uint64_t max_upload_bytes) {
    // Not a coroutine lambda (GCC 12): it hands plain pointers to one.
    return {std::string(kPrefix), [s = &store, b = &blocking, max_upload_bytes](
                                      const core::StreamRequest& req, core::StreamIo& io) {
                return serve(s, b, max_upload_bytes, req, io);
            }};
}

}  // namespace msg::blob
