// The chat module's data operations on the dbman wire (data/wire.hpp): one line each.
#include "data/wire.hpp"
#include "chat/operations.hpp"

namespace msg::chat {

void register_operations(data::Registry& r) {
    r.add(data::entry<CreateRoom>());
    r.add(data::entry<Membership>());
    r.add(data::entry<MemberRooms>());
    r.add(data::entry<AddMember>());
    r.add(data::entry<RemoveMember>());
    r.add(data::entry<SendMessage>());
    r.add(data::entry<SendMessages>());
    r.add(data::entry<RoomFilesExist>());
    r.add(data::entry<SearchMessages>());
    r.add(data::entry<UnindexedMessages>());
    r.add(data::entry<WriteSearchTokens>());
    r.add(data::entry<ListMessages>());
    r.add(data::entry<ResumeRooms>());
    r.add(data::entry<MarkRead>());
    r.add(data::entry<LastRead>());
    r.add(data::entry<ListReaders>());
    r.add(data::entry<UnreadCount>());
    r.add(data::entry<UnreadCounts>());
    r.add(data::entry<ListRooms>());
}

}  // namespace msg::chat
