#include "chat/routes.hpp"

#include "chat/handlers.hpp"

namespace msg::chat {

std::vector<core::Route> routes(ChatService& service) {
    using core::Access;
    using core::Method;
    auto bind = core::bind_methods(std::make_shared<Handlers>(service));
    constexpr auto kAny = Access::authenticated;
    return {
        {Method::post, "/api/v1/rooms", kAny, bind(&Handlers::create_room)},
        {Method::get, "/api/v1/rooms", kAny, bind(&Handlers::list_rooms)},
        {Method::get, "/api/v1/rooms/unread-counts", kAny, bind(&Handlers::unread_counts)},
        {Method::get, "/api/v1/messages/search", kAny, bind(&Handlers::search)},
        {Method::post, "/api/v1/rooms/:id/members", kAny, bind(&Handlers::add_member)},
        {Method::del, "/api/v1/rooms/:id/members/:user_id", kAny, bind(&Handlers::remove_member)},
        {Method::post, "/api/v1/rooms/:id/messages", kAny, bind(&Handlers::send_message)},
        {Method::get, "/api/v1/rooms/:id/messages", kAny, bind(&Handlers::list_messages)},
        {Method::get, "/api/v1/rooms/:id/unread-count", kAny, bind(&Handlers::unread_count)},
        {Method::post, "/api/v1/rooms/:id/read", kAny, bind(&Handlers::mark_read)},
        {Method::get, "/api/v1/rooms/:id/read", kAny, bind(&Handlers::last_read)},
        {Method::get, "/api/v1/rooms/:id/messages/:messageId/readers", kAny,
         bind(&Handlers::readers)},
    };
}

}  // namespace msg::chat
