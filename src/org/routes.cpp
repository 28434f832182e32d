#include "org/routes.hpp"

#include "org/handlers.hpp"

namespace msg::org {

std::vector<core::Route> routes(OrgService& service) {
    using core::Access;
    using core::Method;
    auto bind = core::bind_methods(std::make_shared<Handlers>(service));
    return {
        {Method::post, "/api/v1/auth/login", Access::open, bind(&Handlers::login)},
        {Method::post, "/api/v1/org-units", Access::admin_or_manager,
         bind(&Handlers::create_org_unit)},
        {Method::get, "/api/v1/org-units", Access::admin_or_manager,
         bind(&Handlers::list_org_units)},
        {Method::post, "/api/v1/users", Access::admin_or_manager, bind(&Handlers::create_user)},
        {Method::get, "/api/v1/users/me", Access::authenticated, bind(&Handlers::me)},
        {Method::patch, "/api/v1/users/:id/status", Access::authenticated,
         bind(&Handlers::update_status)},
        {Method::post, "/api/v1/users/:id/deactivate", Access::admin_or_manager,
         bind(&Handlers::deactivate_user)},
        {Method::post, "/api/v1/users/:id/reactivate", Access::admin_or_manager,
         bind(&Handlers::reactivate_user)},
        {Method::patch, "/api/v1/users/:id/role", Access::admin_or_manager,
         bind(&Handlers::set_role)},
        {Method::post, "/api/v1/users/:id/password", Access::admin_or_manager,
         bind(&Handlers::reset_password)},
        {Method::get, "/api/v1/users/search", Access::authenticated, bind(&Handlers::search_users)},
        {Method::get, "/api/v1/users/me/aliases", Access::authenticated,
         bind(&Handlers::list_aliases)},
        {Method::post, "/api/v1/users/me/aliases", Access::authenticated,
         bind(&Handlers::add_alias)},
        {Method::del, "/api/v1/users/me/aliases", Access::authenticated,
         bind(&Handlers::delete_alias)},
        {Method::get, "/api/v1/users/me/aliases/audit", Access::authenticated,
         bind(&Handlers::alias_audit)},
    };
}

}  // namespace msg::org
