// The session module's data operations on the dbman wire (data/wire.hpp): one line each.
#include "data/wire.hpp"
#include "session/operations.hpp"

namespace msg::session {

void register_operations(data::Registry& r) {
    r.add(data::entry<DeviceLogin>());
    r.add(data::entry<DeviceLogout>());
    r.add(data::entry<DeviceLogoutAll>());
    r.add(data::entry<ValidateDevice>());
    r.add(data::entry<CreateChatNotifications>());
    r.add(data::entry<NotifyMentioned>());
}

}  // namespace msg::session
