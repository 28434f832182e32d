#pragma once

#include "core/http.hpp"
#include "notes/service.hpp"

namespace msg::notes {

/// Thin HTTP handlers: parse and bound the input, call the service once, shape the response.
class Handlers {
  public:
    explicit Handlers(NotesService& service) : service_(service) {}

    using Reply = core::Task<core::Result<core::HttpResponse>>;
    Reply create(core::HttpRequest& req);
    Reply inbox(core::HttpRequest& req);
    Reply get(core::HttpRequest& req);
    Reply mark_read(core::HttpRequest& req);

  private:
    NotesService& service_;
};

/// The `files` array of a new note, each entry bounded (`files must be an array of objects`,
/// `files has too many items`, `file_name is too long`, `size_bytes must be an integer` …).
core::Result<std::vector<NoteFile>> read_files(const boost::json::object& body);

}  // namespace msg::notes
