#include "blob/local_routes.hpp"

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/files.hpp"

namespace msg::blob {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "/blobs/";
constexpr std::size_t kChunk = 256 * 1024;

core::Task<void> answer(core::StreamIo& io, unsigned status, std::string_view error) {
    const std::string body = boost::json::serialize(
        status < 300 ? boost::json::object{{"ok", true}} : boost::json::object{{"error", error}});
    co_await io.write_head(status, "application/json", body.size(), false);
    co_await io.write(body);
}

/// `create_only` (the URL's `new=1`): the object must not exist, before the body is read and
/// again, atomically, when it is put in place (two racing uploads: one wins, one gets 409).
core::Task<void> receive(LocalBlobStore& store, core::BlockingPool& blocking,
                         std::uint64_t max_upload, const std::string& key, bool create_only,
                         const core::StreamRequest& req, core::StreamIo& io) {
    if (req.content_length && *req.content_length > max_upload) {
        co_await answer(io, 413, "upload too large");
        co_return;
    }
    const fs::path target = store.path_of(key);
    bool exists = false;
    if (create_only) {
        co_await blocking.run([&] {
            std::error_code ec;
            exists = fs::exists(target, ec);
        });
    }
    if (exists) {
        co_await answer(io, 409, "object already exists");
        co_return;
    }
    const fs::path tmp = core::temp_path_for(target);
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
    bool stored = false, taken = false;
    co_await blocking.run([&] {
        const bool flushed = std::fflush(file) == 0;
        std::fclose(file);
        if (failed || too_large || !flushed) {
            std::error_code ignored;
            fs::remove(tmp, ignored);
            return;
        }
        if (create_only) {
            stored = core::commit_new_file(tmp, target);
            taken = !stored;
        } else {
            core::commit_file(tmp, target);
            stored = true;
        }
    });
    if (taken) {
        co_await answer(io, 409, "object already exists");
    } else if (too_large) {
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
        co_await io.write_head(200, "application/octet-stream", size, /*attachment=*/true);
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
    const auto key = core::percent_decode_path(std::string_view(req.path).substr(kPrefix.size()));
    if (!key || !valid_key(*key)) {
        co_await answer(io, 400, "object key is invalid");
        co_return;
    }
    const bool put = req.method == core::Method::put, get = req.method == core::Method::get;
    if (!put && !get) {
        co_await answer(io, 405, "method not allowed");
        co_return;
    }
    const std::string exp = core::query_value(req.query, "exp").value_or("");
    const std::string sig = core::query_value(req.query, "sig").value_or("");
    const std::string ct = core::query_value(req.query, "ct").value_or("");
    const std::string len = core::query_value(req.query, "len").value_or("");
    const std::string once = core::query_value(req.query, "new").value_or("");
    if (!store->verify(put ? "PUT" : "GET", *key, exp, sig, ct, len, once)) {
        co_await answer(io, 403, "invalid or expired signature");
        co_return;
    }
    // The terms the URL was signed for (UploadTerms), as S3 enforces its signed headers.
    if (put && !ct.empty() && req.content_type != ct) {
        co_await answer(io, 403, "Content-Type does not match the presigned upload");
        co_return;
    }
    if (put && !len.empty() &&
        (!req.content_length || std::to_string(*req.content_length) != len)) {
        co_await answer(io, 403, "Content-Length does not match the presigned upload");
        co_return;
    }
    if (put) {
        co_await receive(*store, *blocking, max_upload, *key, once == "1", req, io);
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
