#include "data/executor.hpp"

namespace msg::data {

core::Task<void> begin(pg::Connection& conn) { co_await conn.execute("BEGIN"); }
core::Task<void> commit(pg::Connection& conn) { co_await conn.execute("COMMIT"); }
core::Task<void> rollback(pg::Connection& conn) { co_await conn.execute("ROLLBACK"); }

}  // namespace msg::data
