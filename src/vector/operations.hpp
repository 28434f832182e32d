#pragma once

#include <cstdint>
#include <string>
#include <vector>
#include "core/describe.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

namespace msg::pg {
class Connection;  // storage/pg/connection.hpp (libpq) stays out of this header
}

namespace msg::data {
class Registry;  // data/remote.hpp
}

namespace msg::vector {

/// A tenant's messages with an id above `after_id`, oldest first: what a rebuilt or stale
/// local index re-embeds.
struct MessagesToIndex {
    static constexpr std::string_view kName = "vectors/messages-to-index";
    static constexpr bool kReadOnly = true;
    static constexpr bool kPrimary = true;  // a catch-up never comes back to a row it missed
    struct Request {
        std::string tenant_id;
        std::int64_t after_id = 0;
        int limit = 500;
    };
    struct Response {
        std::vector<std::int64_t> ids;
        std::vector<std::int64_t> room_ids;
        std::vector<std::string> bodies;
    };
    static core::Task<core::Result<Response>> run(pg::Connection& c, const Request& r);
};
MSG_DESCRIBE_STRUCT(MessagesToIndex::Request, (), (tenant_id, after_id, limit))
MSG_DESCRIBE_STRUCT(MessagesToIndex::Response, (), (ids, room_ids, bodies))

/// Adds every operation above to the dbman registry (wire.cpp).
void register_operations(data::Registry& r);

}  // namespace msg::vector
