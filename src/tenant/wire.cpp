// The tenant module's data operations on the dbman wire (data/wire.hpp): one line each.
#include "data/wire.hpp"
#include "tenant/operations.hpp"

namespace msg::tenant {

void register_operations(data::Registry& r) {
    r.add(data::entry<ListTenants>());
    r.add(data::entry<CreateTenant>());
    r.add(data::entry<UpdateTenant>());
    r.add(data::entry<TenantHasData>());
    r.add(data::entry<ProvisionTenant>());
}

}  // namespace msg::tenant
