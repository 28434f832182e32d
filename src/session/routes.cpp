#include "session/routes.hpp"

#include "session/handlers.hpp"

namespace msg::session {

std::vector<core::Route> routes(SessionService& service) {
    using core::Access;
    using core::Method;
    auto bind = core::bind_methods(std::make_shared<Handlers>(service));
    return {
        {Method::post, "/api/v1/session/login", Access::authenticated, bind(&Handlers::login)},
        {Method::post, "/api/v1/session/logout", Access::authenticated, bind(&Handlers::logout)},
        {Method::post, "/api/v1/session/logout-all", Access::authenticated,
         bind(&Handlers::logout_all)},
        {Method::patch, "/api/v1/session/status", Access::authenticated,
         bind(&Handlers::set_status)},
        {Method::post, "/api/v1/chat/notify", Access::authenticated, bind(&Handlers::notify)},
    };
}

}  // namespace msg::session
