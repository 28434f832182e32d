// The notes module's data operations on the dbman wire (data/wire.hpp): one line each.
#include "data/wire.hpp"
#include "notes/operations.hpp"

namespace msg::notes {

void register_operations(data::Registry& r) {
    r.add(data::entry<CreateNote>());
    r.add(data::entry<ListInbox>());
    r.add(data::entry<GetNote>());
    r.add(data::entry<MarkNoteRead>());
}

}  // namespace msg::notes
