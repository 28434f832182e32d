#include "session/handlers.hpp"

#include <boost/json/object.hpp>

#include "core/json.hpp"
#include "core/text.hpp"
#include "org/model.hpp"

namespace msg::session {

namespace json = boost::json;
using core::BodyReader;
using core::HttpRequest;

Handlers::Reply Handlers::login(HttpRequest& req) {
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    auto device_id = body.string("device_id", {.max_bytes = kMaxDeviceIdBytes, .trim = true});
    auto device_name = body.string("device_name", {.max_bytes = kMaxDeviceNameBytes, .trim = true});
    auto allowed = body.strings("allowed_tenants", {.max_items = kMaxAllowedTenants},
                                {.max_bytes = kMaxTenantIdBytes, .trim = true});
    if (body.error()) co_return *body.error();
    if (!device_id || device_id->empty()) {
        co_return core::invalid("tenant_id, user_id, device_id are required");  // seed text
    }
    SessionService::LoginInput in{std::move(*device_id), device_name.value_or(""),
                                  allowed.value_or(std::vector<std::string>{})};
    auto out = co_await service_.login(req.caller(), std::move(in));
    if (!out) co_return out.error();
    co_return core::json_response(200, to_json(out->session, out->session_token,
                                               std::string(req.bearer_token().value_or(""))));
}

Handlers::Reply Handlers::logout(HttpRequest& req) {
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    auto session_id = body.string("session_id", {.max_bytes = 64, .trim = true});
    auto device_id = body.string("device_id", {.max_bytes = kMaxDeviceIdBytes, .trim = true});
    if (body.error()) co_return *body.error();
    if (session_id && session_id->empty()) session_id.reset();
    if (device_id && device_id->empty()) device_id.reset();
    if (!session_id && !device_id) co_return core::invalid("session_id or device_id is required");
    auto r = co_await service_.logout(req.caller(), std::move(session_id), std::move(device_id));
    if (!r) co_return r.error();
    co_return core::ok_response();
}

Handlers::Reply Handlers::logout_all(HttpRequest& req) {
    auto r = co_await service_.logout_all(req.caller());
    if (!r) co_return r.error();
    co_return core::ok_response();
}

Handlers::Reply Handlers::set_status(HttpRequest& req) {
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    auto status = body.string("status", {.required = true, .max_bytes = 64, .trim = true});
    auto note = body.string("status_note", {.max_bytes = org::kMaxStatusNoteBytes, .trim = true});
    if (body.error()) co_return *body.error();
    auto r = co_await service_.set_status(req.caller(), std::move(*status), note.value_or(""));
    if (!r) co_return r.error();
    co_return core::ok_response();
}

Handlers::Reply Handlers::notify(HttpRequest& req) {
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    auto room_id = body.id("room_id", true);
    auto message_id = body.id("message_id");
    auto title = body.string("title", {.max_bytes = kMaxNotifyTitleBytes, .trim = true});
    auto text = body.string("body", {.max_bytes = kMaxNotifyBodyBytes});
    auto recipients =
        body.ids("recipient_ids", {.required = true, .max_items = kMaxNotifyRecipients});
    if (body.error()) co_return *body.error();
    SessionService::Notification in;
    in.room_id = *room_id;
    in.message_id = message_id;
    in.title = title.value_or("");
    in.body = text.value_or("");
    in.recipient_ids = std::move(*recipients);
    auto r = co_await service_.notify(req.caller(), std::move(in));
    if (!r) co_return r.error();
    co_return core::ok_response();
}

}  // namespace msg::session
