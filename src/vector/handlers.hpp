#pragma once

#include "core/http.hpp"
#include "vector/service.hpp"

namespace msg::vector {

inline constexpr std::size_t kMaxTextBytes = 16 * 1024;  // a message body's limit
inline constexpr std::size_t kMaxQueryBytes = 1024;
inline constexpr std::size_t kMaxTenantIdBytes = 64;
inline constexpr std::size_t kMaxIdsPerCall = 200;

/// vectorman's internal routes (API.md "Internal APIs"); every body names its tenant.
class Handlers {
  public:
    explicit Handlers(VectorService& service) : service_(service) {}

    using Reply = core::Task<core::Result<core::HttpResponse>>;
    Reply index(core::HttpRequest& req);   // {tenant_id, message_id, room_id, text}
    Reply search(core::HttpRequest& req);  // {tenant_id, query, room_id?, message_ids?, limit?}
    Reply remove(core::HttpRequest& req);  // {tenant_id, message_ids}

  private:
    VectorService& service_;
};

std::vector<core::Route> routes(VectorService& service);

}  // namespace msg::vector
