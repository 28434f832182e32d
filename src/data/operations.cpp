#include "data/operations.hpp"

#include "data/wire.hpp"
#include "storage/pg/connection.hpp"

namespace msg::data {

core::Task<core::Result<Ping::Response>> Ping::run(pg::Connection& c, const Request&) {
    co_await c.query("SELECT 1");
    co_return Response{.ok = true};
}

void register_operations(Registry& r) { r.add(entry<Ping>()); }

}  // namespace msg::data
