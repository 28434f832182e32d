#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/http.hpp"
#include "core/rate_limiter.hpp"
#include "core/task.hpp"
#include "session/model.hpp"

namespace msg::queue {
struct Event;
}
namespace msg::data {
class Executor;
}
namespace msg::org {
class OrgService;
}

namespace msg::session {

class SessionEvents;

/// Device sessions, the caller's status, and chat notifications. Every call acts as the caller
/// in the caller's tenant.
class SessionService {
  public:
    /// `notify_per_user_per_second`: chat notifications a user may send per second
    /// (MESSAGE_RATE_PER_USER) → 429.
    SessionService(data::Executor& db, SessionEvents& events, org::OrgService& org,
                   const core::Clock& clock, int notify_per_user_per_second)
        : db_(db),
          events_(events),
          org_(org),
          notifies_(notify_per_user_per_second, std::chrono::seconds(1), clock) {}

    struct LoginInput {
        std::string device_id;  // trimmed, non-empty
        std::string device_name;
        std::vector<std::string> allowed_tenants;
    };
    struct LoginOutput {
        DeviceSession session;
        std::string session_token;  // shown once
    };
    /// A new token on every login; sockets opened with the device's previous token are closed.
    core::Task<core::Result<LoginOutput>> login(const core::Principal& caller, LoginInput in);

    /// Deactivates the caller's device session (by session_id, else device_id) and closes its
    /// sockets. 404 `session not found`.
    core::Task<core::Result<void>> logout(const core::Principal& caller,
                                          std::optional<std::string> session_id,
                                          std::optional<std::string> device_id);

    /// Logout everywhere: every device session of the caller ends (its sockets close) and
    /// every token of theirs is revoked (OrgService::revoke_tokens).
    core::Task<core::Result<void>> logout_all(const core::Principal& caller);

    /// The caller's own status (seed field names); `status.changed` goes to the tenant.
    core::Task<core::Result<void>> set_status(const core::Principal& caller, std::string status,
                                              std::string note);

    /// The generation of a valid session socket login, or nullopt when any value is wrong.
    core::Task<core::Result<std::optional<std::int64_t>>> validate(std::string tenant_id,
                                                                   std::int64_t user_id,
                                                                   std::string session_id,
                                                                   std::string session_token);

    struct Notification {
        std::int64_t room_id = 0;
        std::optional<std::int64_t> message_id;
        std::string title;
        std::string body;
        std::vector<std::int64_t> recipient_ids;  // cleaned here: de-duplicated in order
    };
    /// Persists one row per distinct recipient and sends `chat.notification` (never a token)
    /// to each recipient's session sockets.
    core::Task<core::Result<void>> notify(const core::Principal& caller, Notification in);

    /// The notifications consumer (group `notifications`, topic `message.created`): members the
    /// message mentions (`@name`, `@<email local part>`, `@alias`) who are offline get a stored
    /// `mention` notification (once per message and recipient) and a `chat.notification` to any
    /// session socket they open meanwhile. Throws on a database failure (retried).
    core::Task<void> on_message_created(const queue::Event& event);

  private:
    data::Executor& db_;
    SessionEvents& events_;
    org::OrgService& org_;
    core::RateLimiter notifies_;
};

}  // namespace msg::session
