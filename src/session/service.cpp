#include "session/service.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>

#include "auth/password.hpp"
#include "chat/model.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "core/text.hpp"
#include "data/executor.hpp"
#include "org/service.hpp"
#include "queue/event_queue.hpp"
#include "session/events.hpp"
#include "session/operations.hpp"

namespace msg::session {

namespace json = boost::json;
using core::Result;
using core::Task;

Task<Result<SessionService::LoginOutput>> SessionService::login(const core::Principal& caller,
                                                                LoginInput in) {
    LoginOutput out;
    out.session_token = core::random_hex(kSessionTokenBytes);
    const std::string token_hash = auth::sha256_hex(out.session_token);
    auto allowed = clean_allowed_tenants(in.allowed_tenants, caller.tenant_id);
    auto session =
        co_await db_.run<DeviceLogin>(caller.tenant_id, caller.user_id, std::move(in.device_id),
                                      std::move(in.device_name), token_hash, std::move(allowed));
    if (!session) co_return session.error();
    out.session = std::move(*session);
    if (out.session.generation > 1) {
        // The device logged in before: its old token stops working now, and so do its sockets.
        events_.close_session(caller.tenant_id, caller.user_id, out.session.session_id,
                              out.session.generation);
    }
    co_return out;
}

Task<Result<void>> SessionService::logout(const core::Principal& caller,
                                          std::optional<std::string> session_id,
                                          std::optional<std::string> device_id) {
    if (session_id && !valid_session_id(*session_id))
        co_return core::not_found("session not found");
    auto ended = co_await db_.run<DeviceLogout>(caller.tenant_id, caller.user_id,
                                                std::move(session_id), std::move(device_id));
    if (!ended) co_return ended.error();
    events_.close_session(caller.tenant_id, caller.user_id, ended->session_id, ended->generation);
    co_return Result<void>{};
}

Task<Result<void>> SessionService::logout_all(const core::Principal& caller) {
    auto ended = co_await db_.run<DeviceLogoutAll>(caller.tenant_id, caller.user_id);
    if (!ended) co_return ended.error();
    for (const auto& s : ended->ended) {
        events_.close_session(caller.tenant_id, caller.user_id, s.session_id, s.generation);
    }
    co_return co_await org_.revoke_tokens(caller);
}

Task<Result<void>> SessionService::set_status(const core::Principal& caller, std::string status,
                                              std::string note) {
    auto normalized = normalize_status(status);
    if (!normalized) co_return normalized.error();
    auto changed = co_await org_.update_status(caller, caller.user_id, std::move(*normalized),
                                               std::move(note));
    if (!changed) co_return changed.error();
    co_return Result<void>{};
}

Task<Result<std::optional<std::int64_t>>> SessionService::validate(std::string tenant_id,
                                                                   std::int64_t user_id,
                                                                   std::string session_id,
                                                                   std::string session_token) {
    std::optional<std::int64_t> none;
    if (tenant_id.empty() || tenant_id.size() > kMaxTenantIdBytes ||
        !valid_session_id(session_id) || !valid_session_token(session_token)) {
        co_return none;
    }
    const std::string token_hash = auth::sha256_hex(session_token);
    auto r = co_await db_.run<ValidateDevice>(std::move(tenant_id), user_id, std::move(session_id),
                                              token_hash);
    if (!r) co_return r.error();
    if (!r->valid) co_return none;
    co_return r->generation;
}

Task<Result<void>> SessionService::notify(const core::Principal& caller, Notification in) {
    std::vector<std::int64_t> recipients;
    for (auto id : in.recipient_ids) {
        if (std::find(recipients.begin(), recipients.end(), id) == recipients.end()) {
            recipients.push_back(id);
        }
    }
    if (recipients.empty()) co_return core::invalid("recipient_ids is required");
    if (int wait = notifies_.acquire(caller.tenant_id + ":" + std::to_string(caller.user_id))) {
        co_return core::Error{core::ErrorCode::too_many_requests, "too many requests", wait};
    }
    auto stored = co_await db_.run<CreateChatNotifications>(
        caller.tenant_id, caller.user_id, in.room_id, in.message_id, in.title, in.body, recipients);
    if (!stored) co_return stored.error();

    std::vector<std::pair<std::int64_t, json::object>> payloads;
    payloads.reserve(recipients.size());
    for (auto user : recipients) {
        json::object event{{"type", "chat.notification"},
                           {"tenant_id", caller.tenant_id},
                           {"room_id", in.room_id},
                           {"sender_user_id", caller.user_id},
                           {"recipient_user_id", user},
                           {"title", in.title},
                           {"body", in.body},
                           {"created_at", stored->created_at}};
        event["message_id"] = in.message_id ? json::value(*in.message_id) : json::value(nullptr);
        payloads.emplace_back(user, std::move(event));
    }
    events_.notify_users(caller.tenant_id, payloads);
    co_return Result<void>{};
}

Task<void> SessionService::on_message_created(const queue::Event& event) {
    NotifyMentioned::Request req;
    req.tenant_id = event.tenant_id;
    try {
        const auto payload = json::parse(event.payload).as_object();
        req.message_id = payload.at("id").to_number<std::int64_t>();
        req.room_id = payload.at("room_id").to_number<std::int64_t>();
        req.sender_id = payload.at("sender_id").to_number<std::int64_t>();
        req.body = std::string(payload.at("body").as_string());
    } catch (const std::exception& e) {
        // Nothing of ours writes such a payload; retrying would not mend it.
        core::logger("session")->error("message.created unreadable outbox_id={} error=\"{}\"",
                                       event.id, e.what());
        co_return;
    }
    for (const auto& token : chat::mention_tokens(req.body)) {
        req.tokens.push_back(core::ascii_lower(token));
    }
    if (req.tokens.empty()) co_return;
    const std::int64_t room_id = req.room_id, message_id = req.message_id;
    const std::int64_t sender_id = req.sender_id;
    const std::string body = req.body;
    auto written = co_await db_.run<NotifyMentioned>(std::move(req));
    if (!written) throw std::runtime_error(written.error().message);  // the consumer retries
    if (written->notified.empty()) co_return;
    std::vector<std::pair<std::int64_t, json::object>> payloads;
    payloads.reserve(written->notified.size());
    for (const auto& n : written->notified) {
        payloads.emplace_back(n.recipient_user_id,
                              json::object{{"type", "chat.notification"},
                                           {"tenant_id", event.tenant_id},
                                           {"room_id", room_id},
                                           {"message_id", message_id},
                                           {"sender_user_id", sender_id},
                                           {"recipient_user_id", n.recipient_user_id},
                                           {"title", "mention"},
                                           {"body", body},
                                           {"created_at", n.created_at}});
    }
    events_.notify_users(event.tenant_id, payloads);
}

}  // namespace msg::session
