#include "chat/handlers.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "core/json.hpp"

namespace msg::chat {

namespace json = boost::json;
using core::BodyReader;
using core::HttpRequest;

namespace {
core::Result<std::int64_t> path_id(const HttpRequest& req, std::string_view name) {
    auto id = core::parse_id(req.param(name));
    if (!id)
        return core::invalid(std::string(name == "messageId" ? "message_id" : name) +
                             " must be an id");
    return *id;
}
}  // namespace

core::Result<ChatService::NewMessage> read_new_message(const json::object& obj) {
    BodyReader body(obj);
    ChatService::NewMessage in;
    auto text = body.string("body", {.max_bytes = kMaxBodyBytes});
    auto file_id = body.id("file_id");
    auto file_ids = body.ids("file_ids", {.max_items = kMaxAttachments});
    auto client_msg_id = body.string("client_msg_id", {.max_bytes = kMaxClientMsgIdBytes});
    // Empty items are dropped; absent or null stays null in meta_json (seed).
    auto emojis =
        body.strings("emojis", {.max_items = kMaxAttachments}, {.max_bytes = kMaxEmojiBytes});
    if (body.error()) return *body.error();
    if (emojis) in.attachments.emojis = std::move(*emojis);
    in.body = text.value_or("");
    if (file_id) in.attachments.file_ids.push_back(*file_id);
    for (auto id : file_ids.value_or(std::vector<std::int64_t>{})) {
        auto& ids = in.attachments.file_ids;
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
    if (client_msg_id && !client_msg_id->empty()) in.client_msg_id = *client_msg_id;
    return in;
}

Handlers::Reply Handlers::create_room(HttpRequest& req) {
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    auto name =
        body.string("name", {.required = true, .max_bytes = kMaxRoomNameBytes, .trim = true});
    auto type = body.string("room_type", {.max_bytes = 16});
    auto members = body.ids("member_ids", {.max_items = kMaxMembersPerRequest});
    if (body.error()) co_return *body.error();
    ChatService::NewRoom in{*name, type.value_or(""),
                            members.value_or(std::vector<std::int64_t>{})};
    auto r = co_await service_.create_room(req.caller(), std::move(in));
    if (!r) co_return r.error();
    co_return core::id_response(r->created ? 201 : 200, r->id);
}

Handlers::Reply Handlers::list_rooms(HttpRequest& req) {
    const int limit = req.limit_param("limit", 50, 200);
    auto cursor = req.query_param("cursor");
    if (cursor && cursor->empty()) cursor.reset();
    auto page = co_await service_.list_rooms(req.caller(), limit, std::move(cursor));
    if (!page) co_return page.error();
    json::array items;
    for (const auto& r : page->items) items.push_back(to_json(r));
    json::object out{{"items", std::move(items)}};
    if (page->next_cursor) out["next_cursor"] = *page->next_cursor;
    co_return core::json_response(200, out);
}

Handlers::Reply Handlers::add_member(HttpRequest& req) {
    auto room = path_id(req, "id");
    if (!room) co_return room.error();
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    auto user = body.id("user_id", true);
    if (body.error()) co_return *body.error();
    auto r = co_await service_.add_member(req.caller(), *room, *user);
    if (!r) co_return r.error();
    co_return core::ok_response();
}

Handlers::Reply Handlers::remove_member(HttpRequest& req) {
    auto room = path_id(req, "id");
    if (!room) co_return room.error();
    auto user = path_id(req, "user_id");
    if (!user) co_return user.error();
    auto r = co_await service_.remove_member(req.caller(), *room, *user);
    if (!r) co_return r.error();
    co_return core::ok_response();
}

Handlers::Reply Handlers::send_message(HttpRequest& req) {
    auto room = path_id(req, "id");
    if (!room) co_return room.error();
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    auto in = read_new_message(*obj);
    if (!in) co_return in.error();
    auto r = co_await service_.send(req.caller(), *room, std::move(*in));
    if (!r) co_return r.error();
    co_return core::json_response(r->duplicate ? 200 : 201, to_json(r->message));
}

Handlers::Reply Handlers::list_messages(HttpRequest& req) {
    auto room = path_id(req, "id");
    if (!room) co_return room.error();
    const int limit = req.limit_param("limit", 50, 200);
    auto cursor = req.query_param("cursor");
    if (cursor && cursor->empty()) cursor.reset();
    std::optional<std::int64_t> after_seq;
    if (auto a = req.query_param("after_seq"); a && !a->empty()) {
        if (*a == "0") {
            after_seq = 0;
        } else {
            after_seq = core::parse_id(*a);
            if (!after_seq) co_return core::invalid("after_seq must be a non-negative integer");
        }
    }
    auto page =
        co_await service_.list_messages(req.caller(), *room, limit, std::move(cursor), after_seq);
    if (!page) co_return page.error();
    json::array items;
    for (const auto& m : page->items) items.push_back(to_json(m));
    json::object out{{"items", std::move(items)}};
    if (page->next_cursor && !after_seq) out["next_cursor"] = *page->next_cursor;
    co_return core::json_response(200, out);
}

Handlers::Reply Handlers::search(HttpRequest& req) {
    const int limit = req.limit_param("limit", 30, 100);
    auto q = req.query_param("q").value_or("");
    std::optional<std::int64_t> room;
    if (auto r = req.query_param("room_id"); r && !r->empty()) {
        room = core::parse_id(*r);
        if (!room) co_return core::invalid("room_id must be an id");
    }
    auto cursor = req.query_param("cursor");
    if (cursor && cursor->empty()) cursor.reset();
    const auto rank = req.query_param("rank").value_or("recent");
    if (rank != "recent" && rank != "relevance") {
        co_return core::invalid("rank must be recent or relevance");
    }
    const bool by_relevance = rank == "relevance";
    auto page = co_await service_.search(req.caller(), std::move(q), room, limit, std::move(cursor),
                                         by_relevance);
    if (!page) co_return page.error();
    json::array items;
    for (const auto& m : page->items) items.push_back(to_json(m));
    json::object out{{"items", std::move(items)}};
    if (page->next_cursor) out["next_cursor"] = *page->next_cursor;
    co_return core::json_response(200, out);
}

Handlers::Reply Handlers::unread_count(HttpRequest& req) {
    auto room = path_id(req, "id");
    if (!room) co_return room.error();
    auto n = co_await service_.unread_count(req.caller(), *room);
    if (!n) co_return n.error();
    co_return core::json_response(
        200,
        json::object{{"room_id", *room}, {"user_id", req.caller().user_id}, {"unread_count", *n}});
}

Handlers::Reply Handlers::unread_counts(HttpRequest& req) {
    auto items = co_await service_.unread_counts(req.caller());
    if (!items) co_return items.error();
    json::array out;
    for (const auto& i : *items) {
        out.push_back(json::object{{"room_id", i.room_id}, {"unread_count", i.unread_count}});
    }
    co_return core::json_response(200, out);
}

Handlers::Reply Handlers::mark_read(HttpRequest& req) {
    auto room = path_id(req, "id");
    if (!room) co_return room.error();
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    auto message = body.id("message_id", true);
    if (body.error()) co_return *body.error();
    auto r = co_await service_.mark_read(req.caller(), *room, *message);
    if (!r) co_return r.error();
    co_return core::ok_response();
}

Handlers::Reply Handlers::last_read(HttpRequest& req) {
    auto room = path_id(req, "id");
    if (!room) co_return room.error();
    auto id = co_await service_.last_read(req.caller(), *room);
    if (!id) co_return id.error();
    json::object out{{"room_id", *room}, {"user_id", req.caller().user_id}};
    out["last_read_message_id"] = *id ? json::value(**id) : json::value(nullptr);
    co_return core::json_response(200, out);
}

Handlers::Reply Handlers::readers(HttpRequest& req) {
    auto room = path_id(req, "id");
    if (!room) co_return room.error();
    auto message = path_id(req, "messageId");
    if (!message) co_return message.error();
    auto items = co_await service_.readers(req.caller(), *room, *message);
    if (!items) co_return items.error();
    json::array out;
    for (const auto& r : *items) out.push_back(to_json(r));
    co_return core::json_response(200, out);
}

}  // namespace msg::chat
