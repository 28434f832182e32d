// The org module's data operations on the dbman wire (data/wire.hpp): one line each.
#include "data/wire.hpp"
#include "org/operations.hpp"

namespace msg::org {

void register_operations(data::Registry& r) {
    r.add(data::entry<CreateOrgUnit>());
    r.add(data::entry<ListOrgUnits>());
    r.add(data::entry<CreateUser>());
    r.add(data::entry<FindLoginUser>());
    r.add(data::entry<LoadCredentials>());
    r.add(data::entry<ChangeCredentials>());
    r.add(data::entry<GetUser>());
    r.add(data::entry<UpdateUserStatus>());
    r.add(data::entry<SetAutoPresence>());
    r.add(data::entry<ResetAutoPresence>());
    r.add(data::entry<SearchUsers>());
    r.add(data::entry<IndexUsers>());
    r.add(data::entry<ListAliases>());
    r.add(data::entry<AddAlias>());
    r.add(data::entry<DeleteAlias>());
    r.add(data::entry<ListAliasAudit>());
    r.add(data::entry<SeedAdmin>());
}

}  // namespace msg::org
