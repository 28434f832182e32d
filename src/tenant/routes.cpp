#include "tenant/routes.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "core/json.hpp"
#include "tenant/service.hpp"

namespace msg::tenant {

namespace json = boost::json;
using core::BodyReader;
using core::HttpRequest;
using Reply = core::Task<core::Result<core::HttpResponse>>;

namespace {

/// Reads every optional tenant field present in the body.
TenantPatch read_patch(BodyReader& body) {
    TenantPatch p;
    p.name = body.string("name", {.max_bytes = kMaxNameBytes, .trim = true});
    p.deployment_mode = body.string("deployment_mode", {.max_bytes = 32});
    p.dedicated_dsn = body.string("dedicated_dsn", {.max_bytes = kMaxDsnBytes});
    p.dedicated_redis_addr = body.string("dedicated_redis_addr", {.max_bytes = kMaxSettingBytes});
    p.dedicated_lavinmq_url = body.string("dedicated_lavinmq_url", {.max_bytes = kMaxSettingBytes});
    p.dedicated_minio_endpoint =
        body.string("dedicated_minio_endpoint", {.max_bytes = kMaxSettingBytes});
    p.dedicated_minio_access_key =
        body.string("dedicated_minio_access_key", {.max_bytes = kMaxSettingBytes});
    p.dedicated_minio_secret_key =
        body.string("dedicated_minio_secret_key", {.max_bytes = kMaxSettingBytes});
    p.dedicated_minio_bucket =
        body.string("dedicated_minio_bucket", {.max_bytes = kMaxSettingBytes});
    p.dedicated_minio_use_ssl = body.boolean("dedicated_minio_use_ssl");
    p.user_count_threshold = body.integer("user_count_threshold");
    p.is_active = body.boolean("is_active");
    return p;
}

class Handlers {
  public:
    explicit Handlers(TenantService& s) : service_(s) {}

    Reply list(HttpRequest& req) {
        auto tenants = co_await service_.list(req.caller());
        if (!tenants) co_return tenants.error();
        json::array out;
        for (const auto& t : *tenants) out.push_back(to_json(t));
        co_return core::json_response(200, out);
    }

    Reply create(HttpRequest& req) {
        auto obj = core::parse_object(req.body);
        if (!obj) co_return obj.error();
        BodyReader body(*obj);
        auto id = body.string("tenant_id", {.required = true, .max_bytes = 64, .trim = true});
        body.string("name", {.required = true});
        body.string("deployment_mode", {.required = true});
        TenantPatch fields = read_patch(body);
        if (body.error()) co_return *body.error();
        Tenant t;
        t.tenant_id = *id;
        apply(fields, t);
        if (t.user_count_threshold == 0) t.user_count_threshold = 200;  // seed: 0 or absent → 200
        auto created = co_await service_.create(req.caller(), std::move(t));
        if (!created) co_return created.error();
        co_return core::json_response(201, to_json(*created));
    }

    Reply update(HttpRequest& req) {
        auto obj = core::parse_object(req.body);
        if (!obj) co_return obj.error();
        BodyReader body(*obj);
        TenantPatch patch = read_patch(body);
        if (body.error()) co_return *body.error();
        if (patch.name && patch.name->empty()) co_return core::invalid("name is required");
        const std::string tenant_id(req.param("id"));
        auto updated = co_await service_.update(req.caller(), tenant_id, std::move(patch));
        if (!updated) co_return updated.error();
        co_return core::json_response(200, to_json(*updated));
    }

  private:
    TenantService& service_;
};

}  // namespace

std::vector<core::Route> routes(TenantService& service) {
    using core::Access;
    using core::Method;
    auto h = std::make_shared<Handlers>(service);
    return {
        {Method::get, "/api/v1/tenants", Access::authenticated,
         [h](HttpRequest& r) { return h->list(r); }},
        {Method::post, "/api/v1/tenants", Access::authenticated,
         [h](HttpRequest& r) { return h->create(r); }},
        {Method::patch, "/api/v1/tenants/:id", Access::authenticated,
         [h](HttpRequest& r) { return h->update(r); }},
    };
}

}  // namespace msg::tenant
