#include "data/dbman_routes.hpp"

#include <string>

namespace msg::data {

namespace {

core::Task<core::Result<core::HttpResponse>> serve(const OpEntry* entry, Executor* local,
                                                   core::HttpRequest& request) {
    auto [status, body] = co_await entry->serve(*local, request.body);
    co_return core::HttpResponse{status, std::move(body), "application/json", {}};
}

}  // namespace

std::vector<core::Route> dbman_routes(const Registry& registry, Executor& local) {
    std::vector<core::Route> out;
    for (const auto& [name, entry] : registry.entries()) {
        out.push_back({core::Method::post, "/api/internal/v1/db/" + name, core::Access::internal,
                       [e = &entry, l = &local](core::HttpRequest& r) { return serve(e, l, r); }});
    }
    return out;
}

}  // namespace msg::data
