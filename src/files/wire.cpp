// The files module's data operations on the dbman wire (data/wire.hpp): one line each.
#include "data/wire.hpp"
#include "files/operations.hpp"

namespace msg::files {

void register_operations(data::Registry& r) {
    r.add(data::entry<RegisterFile>());
    r.add(data::entry<ThumbnailJob>());
    r.add(data::entry<FinishThumbnail>());
    r.add(data::entry<CanDownload>());
    r.add(data::entry<KeyTaken>());
    r.add(data::entry<IsRoomFileOfMember>());
    r.add(data::entry<ListRoomFiles>());
}

}  // namespace msg::files
