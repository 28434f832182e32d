#include "vector/operations.hpp"
#include "storage/pg/connection.hpp"

namespace msg::vector {

namespace {
constexpr std::string_view kMessagesToIndex =
    "SELECT id, room_id, body FROM messages WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3";
}

core::Task<core::Result<MessagesToIndex::Response>> MessagesToIndex::run(pg::Connection& c,
                                                                         const Request& r) {
    auto rows = co_await c.query(kMessagesToIndex, r.tenant_id, r.after_id, r.limit);
    Response out;
    for (int i = 0; i < rows.size(); ++i) {
        out.ids.push_back(rows.int64(i, 0));
        out.room_ids.push_back(rows.int64(i, 1));
        out.bodies.push_back(rows.string(i, 2));
    }
    co_return out;
}

}  // namespace msg::vector
