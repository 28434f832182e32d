#include "org/handlers.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "core/json.hpp"

namespace msg::org {

namespace json = boost::json;
using core::BodyReader;
using core::HttpRequest;

Handlers::Reply Handlers::login(HttpRequest& req) {
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    auto tenant = body.string("tenant_id", {.required = true, .max_bytes = 64});
    auto email = body.string("email", {.required = true, .max_bytes = kMaxEmailBytes});
    auto password = body.string("password", {.required = true, .max_bytes = 1024});
    if (body.error()) co_return *body.error();
    OrgService::LoginInput input{*tenant, *email, *password, req.remote_ip};
    auto token = co_await service_.login(std::move(input));
    if (!token) co_return token.error();
    co_return core::json_response(200, json::object{{"access_token", token->access_token},
                                                    {"user_id", token->user_id},
                                                    {"tenant_id", token->tenant_id},
                                                    {"role", token->role}});
}

Handlers::Reply Handlers::create_org_unit(HttpRequest& req) {
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    auto parent = body.id("parent_id");
    auto name = body.string("name", {.required = true, .max_bytes = kMaxNameBytes, .trim = true});
    if (body.error()) co_return *body.error();
    auto id = co_await service_.create_org_unit(req.caller(), parent, *name);
    if (!id) co_return id.error();
    co_return core::id_response(201, *id);
}

Handlers::Reply Handlers::list_org_units(HttpRequest& req) {
    auto units = co_await service_.list_org_units(req.caller());
    if (!units) co_return units.error();
    json::array out;
    for (const auto& u : *units) out.push_back(to_json(u));
    co_return core::json_response(200, out);
}

Handlers::Reply Handlers::create_user(HttpRequest& req) {
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    OrgService::NewUser in;
    auto org_id = body.id("org_id", true);
    auto email =
        body.string("email", {.required = true, .max_bytes = kMaxEmailBytes, .trim = true});
    auto password = body.string("password", {.required = true, .max_bytes = kMaxPasswordBytes});
    auto name = body.string("name", {.required = true, .max_bytes = kMaxNameBytes, .trim = true});
    auto title = body.string("title", {.max_bytes = kMaxTitleBytes, .trim = true});
    auto role = body.string("role", {.max_bytes = 16});
    auto status = body.string("status", {.max_bytes = 16});
    auto note = body.string("status_note", {.max_bytes = kMaxStatusNoteBytes});
    if (body.error()) co_return *body.error();
    in.org_id = *org_id;
    in.email = *email;
    in.password = *password;
    in.name = *name;
    in.title = title.value_or("");
    in.role = role.value_or("");
    in.status = status.value_or("");
    in.status_note = note.value_or("");
    auto id = co_await service_.create_user(req.caller(), std::move(in));
    if (!id) co_return id.error();
    co_return core::id_response(201, *id);
}

Handlers::Reply Handlers::me(HttpRequest& req) {
    auto user = co_await service_.me(req.caller());
    if (!user) co_return user.error();
    co_return core::json_response(200, to_json(*user));
}

Handlers::Reply Handlers::update_status(HttpRequest& req) {
    auto user_id = core::parse_id(req.param("id"));
    if (!user_id) co_return core::invalid("id must be an id");
    // Permission first, before the body is even parsed (seed order).
    if (req.caller().user_id != *user_id && !req.caller().is_admin_or_manager()) {
        co_return core::forbidden("cannot update another user's status");
    }
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    auto status = body.string("status", {.required = true, .max_bytes = 16});
    auto note = body.string("note", {.max_bytes = kMaxStatusNoteBytes});
    if (body.error()) co_return *body.error();
    auto r = co_await service_.update_status(req.caller(), *user_id, *status, note.value_or(""));
    if (!r) co_return r.error();
    co_return core::ok_response();
}

namespace {
Handlers::Reply change_active(OrgService& service, HttpRequest& req, bool active) {
    auto user_id = core::parse_id(req.param("id"));
    if (!user_id) co_return core::invalid("id must be an id");
    auto user = co_await service.set_active(req.caller(), *user_id, active);
    if (!user) co_return user.error();
    co_return core::json_response(200, to_json(*user));
}
}  // namespace

Handlers::Reply Handlers::deactivate_user(HttpRequest& req) {
    return change_active(service_, req, false);
}

Handlers::Reply Handlers::reactivate_user(HttpRequest& req) {
    return change_active(service_, req, true);
}

Handlers::Reply Handlers::set_role(HttpRequest& req) {
    auto user_id = core::parse_id(req.param("id"));
    if (!user_id) co_return core::invalid("id must be an id");
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    auto role = body.string("role", {.required = true, .max_bytes = 16});
    if (body.error()) co_return *body.error();
    auto user = co_await service_.set_role(req.caller(), *user_id, *role);
    if (!user) co_return user.error();
    co_return core::json_response(200, to_json(*user));
}

Handlers::Reply Handlers::reset_password(HttpRequest& req) {
    auto user_id = core::parse_id(req.param("id"));
    if (!user_id) co_return core::invalid("id must be an id");
    auto obj = core::parse_object(req.body);
    if (!obj) co_return obj.error();
    BodyReader body(*obj);
    auto password = body.string("password", {.required = true, .max_bytes = kMaxPasswordBytes});
    if (body.error()) co_return *body.error();
    auto done = co_await service_.reset_password(req.caller(), *user_id, *password);
    if (!done) co_return done.error();
    co_return core::ok_response();
}

Handlers::Reply Handlers::search_users(HttpRequest& req) {
    auto q = req.query_param("q").value_or("");
    if (core::utf8_length(q) > kMaxSearchQueryChars) co_return core::invalid("q is too long");
    const int limit = req.limit_param("limit", 20, 100);
    auto users = co_await service_.search_users(req.caller(), std::move(q), limit);
    if (!users) co_return users.error();
    json::array out;
    for (const auto& u : *users) out.push_back(to_json(u));
    co_return core::json_response(200, out);
}

Handlers::Reply Handlers::list_aliases(HttpRequest& req) {
    auto aliases = co_await service_.aliases(req.caller());
    if (!aliases) co_return aliases.error();
    json::array out;
    for (const auto& a : *aliases) out.push_back(json::string(a));
    co_return core::json_response(200, json::object{{"aliases", std::move(out)}});
}

namespace {
core::Result<std::string> alias_from(const std::string& body_text) {
    auto obj = core::parse_object(body_text);
    if (!obj) return obj.error();
    BodyReader body(*obj);
    auto alias = body.string("alias", {.required = true, .max_bytes = 1024});
    if (body.error()) return *body.error();
    return *alias;
}
}  // namespace

Handlers::Reply Handlers::add_alias(HttpRequest& req) {
    auto alias = alias_from(req.body);
    if (!alias) co_return alias.error();
    OrgService::AliasInput input{*alias, req.remote_ip, req.user_agent};
    auto r = co_await service_.add_alias(req.caller(), std::move(input));
    if (!r) co_return r.error();
    co_return core::ok_response();
}

Handlers::Reply Handlers::delete_alias(HttpRequest& req) {
    auto alias = alias_from(req.body);
    if (!alias) co_return alias.error();
    OrgService::AliasInput input{*alias, req.remote_ip, req.user_agent};
    auto r = co_await service_.delete_alias(req.caller(), std::move(input));
    if (!r) co_return r.error();
    co_return core::ok_response();
}

Handlers::Reply Handlers::alias_audit(HttpRequest& req) {
    OrgService::AuditQuery q;
    q.limit = req.limit_param("limit", 50, 200);
    q.from = req.query_param("from");
    q.to = req.query_param("to");
    q.action = req.query_param("action");
    q.cursor = req.query_param("cursor");
    if (q.from && q.from->empty()) q.from.reset();
    if (q.to && q.to->empty()) q.to.reset();
    if (q.cursor && q.cursor->empty()) q.cursor.reset();
    auto page = co_await service_.alias_audit(req.caller(), std::move(q));
    if (!page) co_return page.error();
    json::array items;
    for (const auto& a : page->items) items.push_back(to_json(a));
    json::object out{{"items", std::move(items)}};
    if (page->next_cursor) out["next_cursor"] = *page->next_cursor;
    co_return core::json_response(200, out);
}

}  // namespace msg::org
