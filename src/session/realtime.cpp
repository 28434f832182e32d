#include "session/realtime.hpp"

#include <boost/json/object.hpp>

#include <chrono>

#include "core/json.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "session/hub.hpp"
#include "session/service.hpp"

namespace msg::session {

namespace json = boost::json;

namespace {

class SessionSocket final : public core::WsSession {
  public:
    SessionSocket(SessionService& service, SessionHub& hub, core::PresenceObserver* presence,
                  std::string tenant_id, std::int64_t user_id, std::string session_id,
                  std::string token, std::int64_t generation,
                  std::shared_ptr<core::WsConnection> socket)
        : service_(service),
          hub_(hub),
          presence_(presence),
          tenant_id_(std::move(tenant_id)),
          user_id_(user_id),
          session_id_(std::move(session_id)),
          token_(std::move(token)),
          generation_(generation),
          socket_(std::move(socket)) {}

    core::Task<void> on_open() override {
        socket_->send(core::json_frame(json::object{
            {"type", "session.connected"},
            {"tenant_id", tenant_id_},
            {"user_id", user_id_},
            {"session_id", session_id_},
            {"connected_at", core::format_rfc3339(std::chrono::system_clock::now())}}));
        SessionHub::Socket entry{session_id_, generation_, socket_};
        hub_.add(tenant_id_, user_id_, entry);
        if (presence_) presence_->socket_opened(tenant_id_, user_id_);
        // A login or logout that committed between the handshake check and the line above
        // published its close before this socket was in the hub: check once more.
        auto again = co_await service_.validate(tenant_id_, user_id_, session_id_, token_);
        if (!again || !*again || **again != generation_) socket_->close(1008, "session ended");
        token_.clear();
    }

    core::Task<void> on_text(std::string text) override {
        if (auto reply = answer_client_frame(text)) socket_->send(std::move(*reply));
        co_return;
    }

    void on_close() override {  // after on_open, once (core::WsSession)
        hub_.remove(tenant_id_, user_id_, socket_->id());
        if (presence_) presence_->socket_closed(tenant_id_, user_id_);
    }

  private:
    SessionService& service_;
    SessionHub& hub_;
    core::PresenceObserver* presence_;
    std::string tenant_id_;
    std::int64_t user_id_;
    std::string session_id_;
    std::string token_;  // held until the re-check in on_open, then dropped
    std::int64_t generation_;
    std::shared_ptr<core::WsConnection> socket_;
};

core::Task<core::Result<std::shared_ptr<core::WsSession>>> accept_session_socket(
    SessionService* service, SessionHub* hub, core::PresenceObserver* presence,
    core::HttpRequest* request, std::shared_ptr<core::WsConnection> socket) {
    auto param = [request](std::string_view name) {
        return std::string(core::trim(request->query_param(name).value_or("")));
    };
    std::string tenant_id = param("tenant_id");
    std::string session_id = param("session_id");
    std::string token = param("session_token");
    auto user_id = core::parse_id(param("user_id"));
    if (!user_id || tenant_id.empty() || session_id.empty() || token.empty()) {
        co_return core::unauthorized("unauthorized");
    }
    auto generation = co_await service->validate(tenant_id, *user_id, session_id, token);
    if (!generation) co_return generation.error();
    if (!*generation) co_return core::unauthorized("unauthorized");
    // Who the socket belongs to: the transport registers it with the credentials guard, so a
    // revocation (logout everywhere, deactivation, tenant suspension) closes it.
    core::Principal owner;
    owner.tenant_id = tenant_id;
    owner.user_id = *user_id;
    request->principal = std::move(owner);
    co_return std::make_shared<SessionSocket>(*service, *hub, presence, std::move(tenant_id),
                                              *user_id, std::move(session_id), std::move(token),
                                              **generation, std::move(socket));
}

}  // namespace

std::optional<core::Frame> answer_client_frame(std::string_view text) {
    auto parsed = core::parse_object(text);
    if (!parsed) return std::nullopt;
    auto type = parsed->find("type");
    if (type != parsed->end() && type->value() == "ping") {
        return core::json_frame(json::object{{"type", "pong"}});
    }
    return std::nullopt;  // anything else is a keep-alive (seed)
}

std::vector<core::WsRoute> ws_routes(SessionService& service, SessionHub& hub,
                                     core::PresenceObserver* presence) {
    return {
        core::WsRoute{"/ws/session",
                      [s = &service, h = &hub, p = presence](
                          core::HttpRequest& request, std::shared_ptr<core::WsConnection> socket) {
                          return accept_session_socket(s, h, p, &request, std::move(socket));
                      },
                      core::Access::open}};
}

}  // namespace msg::session
