#include "chat/routes.hpp"

#include "chat/handlers.hpp"

namespace msg::chat {

std::vector<core::Route> routes(ChatService& service) {
    using core::Access;
    using core::Method;
    auto bind = core::bind_methods(std::make_shared<Handlers>(service));
    constexpr auto any = Access::authenticated;
    return {
        {Method::post, "/api/v1/rooms", any, bind(&Handlers::create_room)},
        {Method::get, "/api/v1/rooms", any, bind(&Handlers::list_rooms)},
        {Method::get, "/api/v1/rooms/unread-counts", any, bind(&Handlers::unread_counts)},
        {Method::get, "/api/v1/messages/search", any, bind(&Handlers::search)},
        {Method::post, "/api/v1/rooms/:id/members", any, bind(&Handlers::add_member)},
        {Method::del, "/api/v1/rooms/:id/members/:user_id", any, bind(&Handlers::remove_member)},
        {Method::post, "/api/v1/rooms/:id/messages", any, bind(&Handlers::send_message)},
        {Method::get, "/api/v1/rooms/:id/messages", any, bind(&Handlers::list_messages)},
        {Method::get, "/api/v1/rooms/:id/unread-count", any, bind(&Handlers::unread_count)},
        {Method::post, "/api/v1/rooms/:id/read", any, bind(&Handlers::mark_read)},
        {Method::get, "/api/v1/rooms/:id/read", any, bind(&Handlers::last_read)},
        {Method::get, "/api/v1/rooms/:id/messages/:messageId/readers", any,
         bind(&Handlers::readers)},
    };
}

}  // namespace msg::chat
