#pragma once

#include "core/http.hpp"
#include "files/service.hpp"

namespace msg::files {

/// Thin HTTP handlers: parse and bound the input, call the service once, shape the response.
class Handlers {
  public:
    explicit Handlers(FilesService& service) : service_(service) {}

    using Reply = core::Task<core::Result<core::HttpResponse>>;
    Reply presign_upload(core::HttpRequest& req);
    Reply presign_download(core::HttpRequest& req);
    Reply register_file(core::HttpRequest& req);
    Reply room_files(core::HttpRequest& req);

  private:
    Reply presign(core::HttpRequest& req, bool download);

    FilesService& service_;
};

std::vector<core::Route> routes(FilesService& service);

}  // namespace msg::files
