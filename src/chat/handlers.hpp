#pragma once

#include "chat/service.hpp"
#include "core/http.hpp"

namespace msg::chat {

/// Thin HTTP handlers: parse and bound the input, call the service once, shape the response.
class Handlers {
  public:
    explicit Handlers(ChatService& service) : service_(service) {}

    using Reply = core::Task<core::Result<core::HttpResponse>>;
    Reply create_room(core::HttpRequest& req);
    Reply list_rooms(core::HttpRequest& req);
    Reply add_member(core::HttpRequest& req);
    Reply remove_member(core::HttpRequest& req);
    Reply send_message(core::HttpRequest& req);
    Reply list_messages(core::HttpRequest& req);
    Reply unread_count(core::HttpRequest& req);
    Reply unread_counts(core::HttpRequest& req);
    Reply mark_read(core::HttpRequest& req);
    Reply last_read(core::HttpRequest& req);
    Reply readers(core::HttpRequest& req);
    Reply search(core::HttpRequest& req);

  private:
    ChatService& service_;
};

/// Reads a send's fields (REST body or WebSocket payload): `body`, `file_id`, `file_ids`,
/// `emojis`, `client_msg_id`, with their bounds.
core::Result<ChatService::NewMessage> read_new_message(const boost::json::object& obj);

}  // namespace msg::chat
