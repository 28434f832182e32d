#pragma once

#include <vector>

#include "core/http.hpp"

namespace msg::notes {

class NotesService;

/// POST /notes, GET /notes/inbox, GET /notes/:id, POST /notes/:id/read.
std::vector<core::Route> routes(NotesService& service);

}  // namespace msg::notes
