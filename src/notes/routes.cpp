#include "notes/routes.hpp"

#include "notes/handlers.hpp"

namespace msg::notes {

std::vector<core::Route> routes(NotesService& service) {
    using core::Access;
    using core::Method;
    auto h = std::make_shared<Handlers>(service);
    auto bind =
        [h](core::Task<core::Result<core::HttpResponse>> (Handlers::*fn)(core::HttpRequest&)) {
            return [h, fn](core::HttpRequest& r) { return ((*h).*fn)(r); };
        };
    return {
        {Method::post, "/api/v1/notes", Access::authenticated, bind(&Handlers::create)},
        {Method::get, "/api/v1/notes/inbox", Access::authenticated, bind(&Handlers::inbox)},
        {Method::get, "/api/v1/notes/:id", Access::authenticated, bind(&Handlers::get)},
        {Method::post, "/api/v1/notes/:id/read", Access::authenticated, bind(&Handlers::mark_read)},
    };
}

}  // namespace msg::notes
