#include "notes/handlers.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "core/json.hpp"

namespace msg::notes {

namespace json = boost::json;
using core::BodyReader;
using core::HttpRequest;

core::Result<std::vector<NoteFile>> read_files(const json::object& body) {
    std::vector<NoteFile> out;
    const json::value* files = body.if_contains("files");
    if (files == nullptr || files->is_null()) return out;
    if (!files->is_array()) return core::invalid("files must be an array of objects");
    if (files->get_array().size() > kMaxFiles) return core::invalid("files has too many items");
    for (const auto& item : files->get_array()) {
        if (!item.is_object()) return core::invalid("files must be an array of objects");
        BodyReader f(item.get_object());
        auto name = f.string("file_name", {.max_bytes = kMaxFileNameBytes, .trim = true});
        auto key = f.string("object_key", {.required = true, .max_bytes = kMaxObjectKeyBytes});
        auto type = f.string("content_type", {.max_bytes = kMaxContentTypeBytes, .trim = true});
        auto size = f.integer("size_bytes");
        if (f.error()) return *f.error();
        if (size && *size < 0) return core::invalid("size_bytes must not be negative");
        for (unsigned char ch : *key) {
            if (ch < 0x20 || ch == 0x7f) return core::invalid("object_key is invalid");
        }
        out.push_back({name.value_or(""), *key, type.value_or(""), size.value_or(0)});
    }
    return out;
}

Handlers::Reply Handlers::create(HttpRequest& req) {
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    NotesService::NewNote in;
    auto title = body.string("title", {.max_bytes = kMaxTitleBytes, .trim = true});
    auto text = body.string("body", {.max_bytes = kMaxBodyBytes});
    auto to = body.ids("to", {.max_items = kMaxRecipients});
    auto cc = body.ids("cc", {.max_items = kMaxRecipients});
    auto bcc = body.ids("bcc", {.max_items = kMaxRecipients});
    if (body.error()) co_return *body.error();
    auto files = read_files(*obj);
    if (!files) co_return files.error();
    in.title = title.value_or("");
    in.body = text.value_or("");
    in.to = to.value_or(std::vector<std::int64_t>{});
    in.cc = cc.value_or(std::vector<std::int64_t>{});
    in.bcc = bcc.value_or(std::vector<std::int64_t>{});
    if (in.to.size() + in.cc.size() + in.bcc.size() > kMaxRecipients) {
        co_return core::invalid("too many recipients");
    }
    in.files = std::move(*files);
    auto note = co_await service_.create(req.caller(), std::move(in));
    if (!note) co_return note.error();
    co_return core::json_response(201, to_json(*note));
}

Handlers::Reply Handlers::inbox(HttpRequest& req) {
    const int limit = req.limit_param("limit", 50, 200);
    std::optional<std::int64_t> before;
    if (auto b = req.query_param("before"); b && !b->empty()) {
        before = core::parse_id(*b);
        if (!before) co_return core::invalid("before must be an id");
    }
    auto items = co_await service_.inbox(req.caller(), limit, before);
    if (!items) co_return items.error();
    json::array out;
    for (const auto& item : *items) out.push_back(to_json(item));
    co_return core::json_response(200, out);
}

Handlers::Reply Handlers::get(HttpRequest& req) {
    auto id = core::parse_id(req.param("id"));
    if (!id) co_return core::invalid("note_id must be an id");
    auto found = co_await service_.get(req.caller(), *id);
    if (!found) co_return found.error();
    json::object out = to_json(found->note);
    if (found->recipient_type) {
        out["recipient_type"] = *found->recipient_type;
        out["is_read"] = found->is_read;
        out["read_at"] = found->read_at ? json::value(*found->read_at) : json::value(nullptr);
    }
    co_return core::json_response(200, out);
}

Handlers::Reply Handlers::mark_read(HttpRequest& req) {
    auto id = core::parse_id(req.param("id"));
    if (!id) co_return core::invalid("note_id must be an id");
    auto r = co_await service_.mark_read(req.caller(), *id);
    if (!r) co_return r.error();
    co_return core::ok_response();
}

}  // namespace msg::notes
