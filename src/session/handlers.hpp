#pragma once

#include "core/http.hpp"
#include "session/service.hpp"

namespace msg::session {

/// Thin HTTP handlers: parse and bound the input, call the service once, shape the response.
class Handlers {
  public:
    explicit Handlers(SessionService& service) : service_(service) {}

    using Reply = core::Task<core::Result<core::HttpResponse>>;
    Reply login(core::HttpRequest& req);
    Reply logout(core::HttpRequest& req);
    Reply logout_all(core::HttpRequest& req);
    Reply set_status(core::HttpRequest& req);
    Reply notify(core::HttpRequest& req);

  private:
    SessionService& service_;
};

}  // namespace msg::session
