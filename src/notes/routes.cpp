#include "notes/routes.hpp"

#include "notes/handlers.hpp"

namespace msg::notes {

std::vector<core::Route> routes(NotesService& service) {
    using core::Access;
    using core::Method;
    auto bind = core::bind_methods(std::make_shared<Handlers>(service));
    return {
        {Method::post, "/api/v1/notes", Access::authenticated, bind(&Handlers::create)},
        {Method::get, "/api/v1/notes/inbox", Access::authenticated, bind(&Handlers::inbox)},
        {Method::get, "/api/v1/notes/:id", Access::authenticated, bind(&Handlers::get)},
        {Method::post, "/api/v1/notes/:id/read", Access::authenticated, bind(&Handlers::mark_read)},
    };
}

}  // namespace msg::notes
