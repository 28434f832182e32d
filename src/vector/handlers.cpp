#include "vector/handlers.hpp"

#include <boost/json.hpp>

#include "core/json.hpp"

namespace msg::vector {

namespace json = boost::json;
using core::BodyReader;
using core::HttpRequest;

namespace {

std::optional<std::string> tenant_of(BodyReader& body) {
    return body.string("tenant_id", {.required = true, .max_bytes = kMaxTenantIdBytes});
}

}  // namespace

Handlers::Reply Handlers::index(HttpRequest& req) {
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    auto tenant = tenant_of(body);
    auto message_id = body.id("message_id", true);
    auto room_id = body.id("room_id", true);
    auto text = body.string("text", {.max_bytes = kMaxTextBytes});
    if (body.error()) co_return *body.error();
    const std::string content = text.value_or("");
    co_await service_.index_message(*tenant, *message_id, *room_id, content);
    co_return core::json_response(200, json::object{{"ok", true}});
}

Handlers::Reply Handlers::search(HttpRequest& req) {
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    auto tenant = tenant_of(body);
    auto query = body.string("query", {.required = true, .max_bytes = kMaxQueryBytes});
    auto room_id = body.id("room_id");
    auto message_ids = body.ids("message_ids", {.max_items = kMaxIdsPerCall});
    auto limit = body.integer("limit");
    if (body.error()) co_return *body.error();
    SearchFilter filter;
    if (room_id) filter.room_ids.push_back(*room_id);
    if (message_ids) filter.message_ids = std::move(*message_ids);
    // Seed rule: ≤ 0 or > 200 → 30.
    const int k = (!limit || *limit <= 0 || *limit > 200) ? 30 : static_cast<int>(*limit);
    auto hits = co_await service_.search(*tenant, *query, filter, k);
    json::array ids, scores;
    for (const auto& h : hits) {
        ids.emplace_back(h.message_id);
        scores.emplace_back(static_cast<double>(h.score));
    }
    co_return core::json_response(200, json::object{{"ids", ids}, {"scores", scores}});
}

Handlers::Reply Handlers::remove(HttpRequest& req) {
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    auto tenant = tenant_of(body);
    auto ids = body.ids("message_ids", {.required = true, .max_items = kMaxIdsPerCall});
    if (body.error()) co_return *body.error();
    co_await service_.remove(*tenant, *ids);
    co_return core::json_response(200, json::object{{"ok", true}});
}

std::vector<core::Route> routes(VectorService& service) {
    using core::Access;
    using core::Method;
    auto bind = core::bind_methods(std::make_shared<Handlers>(service));
    return {
        {Method::post, "/api/v1/vectors/messages/index", Access::internal, bind(&Handlers::index)},
        {Method::post, "/api/v1/vectors/messages/search", Access::internal,
         bind(&Handlers::search)},
        {Method::post, "/api/v1/vectors/messages/delete", Access::internal,
         bind(&Handlers::remove)},
    };
}

}  // namespace msg::vector
