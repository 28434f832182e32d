#pragma once

#include "core/http.hpp"
#include "org/service.hpp"

namespace msg::org {

/// Thin HTTP handlers: parse and bound the input, call the service once, shape the response.
class Handlers {
  public:
    explicit Handlers(OrgService& service) : service_(service) {}

    using Reply = core::Task<core::Result<core::HttpResponse>>;
    Reply login(core::HttpRequest& req);
    Reply create_org_unit(core::HttpRequest& req);
    Reply list_org_units(core::HttpRequest& req);
    Reply create_user(core::HttpRequest& req);
    Reply me(core::HttpRequest& req);
    Reply update_status(core::HttpRequest& req);
    Reply deactivate_user(core::HttpRequest& req);
    Reply reactivate_user(core::HttpRequest& req);
    Reply set_role(core::HttpRequest& req);
    Reply reset_password(core::HttpRequest& req);
    Reply search_users(core::HttpRequest& req);
    Reply list_aliases(core::HttpRequest& req);
    Reply add_alias(core::HttpRequest& req);
    Reply delete_alias(core::HttpRequest& req);
    Reply alias_audit(core::HttpRequest& req);

  private:
    OrgService& service_;
};

}  // namespace msg::org
