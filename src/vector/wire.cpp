// The vector module's data operations on the dbman wire (data/wire.hpp): one line each.
#include "data/wire.hpp"
#include "vector/operations.hpp"

namespace msg::vector {

void register_operations(data::Registry& r) { r.add(data::entry<MessagesToIndex>()); }

}  // namespace msg::vector
