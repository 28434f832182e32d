#include "files/handlers.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "core/json.hpp"
#include "core/text.hpp"

namespace msg::files {

namespace json = boost::json;
using core::BodyReader;
using core::HttpRequest;

namespace {

core::HttpResponse presigned_response(const FilesService::Presigned& p) {
    return core::json_response(
        200,
        json::object{{"url", p.url}, {"object_key", p.object_key}, {"expires_at", p.expires_at}});
}

/// `type/subtype` with optional parameters, printable ASCII: it becomes a header the upload
/// must carry (a signed one on S3), so no line breaks or control characters.
bool valid_content_type(std::string_view t) {
    const auto slash = t.find('/');
    if (slash == 0 || slash == std::string_view::npos || slash + 1 == t.size()) return false;
    for (const char c : t) {
        if (c < 0x20 || c > 0x7e) return false;
    }
    // SigV4 collapses runs of spaces in signed header values and S3 compares the collapsed
    // form: a type with one would never match its own signature.
    return t.find("  ") == std::string_view::npos;
}

/// How the client reached us, for local-store URLs when PUBLIC_BASE_URL is unset.
std::string base_of(const HttpRequest& req) { return "http://" + req.host; }

}  // namespace

Handlers::Reply Handlers::presign_upload(HttpRequest& req) { return presign(req, false); }

Handlers::Reply Handlers::presign_download(HttpRequest& req) { return presign(req, true); }

Handlers::Reply Handlers::presign(HttpRequest& req, bool download) {
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    auto key = body.string("object_key", {.required = true, .max_bytes = kMaxKeyBytes});
    blob::UploadTerms terms;
    if (!download) {
        auto type = body.string("content_type", {.max_bytes = kMaxContentTypeBytes, .trim = true});
        auto size = body.integer("size_bytes");
        if (type) terms.content_type = std::move(*type);
        terms.size_bytes = size;
    }
    if (body.error()) co_return *body.error();
    if (!terms.content_type.empty() && !valid_content_type(terms.content_type)) {
        co_return core::invalid("content_type is invalid");
    }
    std::string base = base_of(req);
    core::Result<FilesService::Presigned> r = core::invalid("");
    if (download) {  // not in a ?: — GCC 12 and co_await
        r = co_await service_.presign_download(req.caller(), std::move(*key), std::move(base));
    } else {
        r = co_await service_.presign_upload(req.caller(), std::move(*key), std::move(terms),
                                             std::move(base));
    }
    if (!r) co_return r.error();
    co_return presigned_response(*r);
}

Handlers::Reply Handlers::register_file(HttpRequest& req) {
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    auto room_id = body.id("room_id", true);
    auto key = body.string("object_key", {.required = true, .max_bytes = kMaxKeyBytes});
    auto type = body.string("content_type",
                            {.required = true, .max_bytes = kMaxContentTypeBytes, .trim = true});
    auto name =
        body.string("original_name", {.required = true, .max_bytes = kMaxNameBytes, .trim = true});
    auto size = body.integer("size_bytes", true);
    if (body.error()) co_return *body.error();
    if (*size <= 0) co_return core::invalid("size_bytes must be positive");
    FilesService::Registration in{*room_id, std::move(*key), std::move(*type), std::move(*name),
                                  *size};
    auto file = co_await service_.register_file(req.caller(), std::move(in));
    if (!file) co_return file.error();
    co_return core::json_response(201, to_json(*file));
}

Handlers::Reply Handlers::room_files(HttpRequest& req) {
    auto room = core::parse_id(req.param("id"));
    if (!room) co_return core::invalid("room id must be an id");
    const int limit = req.limit_param("limit", 50, 200);
    auto cursor = req.query_param("cursor");
    if (cursor && cursor->empty()) cursor.reset();
    auto page = co_await service_.room_files(req.caller(), *room, limit, std::move(cursor));
    if (!page) co_return page.error();
    json::array items;
    for (const auto& f : page->items) items.push_back(to_json(f));
    json::object out{{"items", std::move(items)}};
    if (page->next_cursor) out["next_cursor"] = *page->next_cursor;
    co_return core::json_response(200, out);
}

std::vector<core::Route> routes(FilesService& service) {
    using core::Access;
    using core::Method;
    auto bind = core::bind_methods(std::make_shared<Handlers>(service));
    return {
        {Method::post, "/api/v1/files/presign-upload", Access::authenticated,
         bind(&Handlers::presign_upload)},
        {Method::post, "/api/v1/files/presign-download", Access::authenticated,
         bind(&Handlers::presign_download)},
        {Method::post, "/api/v1/files/register", Access::authenticated,
         bind(&Handlers::register_file)},
        {Method::get, "/api/v1/rooms/:id/files", Access::authenticated,
         bind(&Handlers::room_files)},
    };
}

}  // namespace msg::files
