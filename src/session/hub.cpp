#include "session/hub.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>

#include "core/json.hpp"
#include "core/log.hpp"
#include "session/events.hpp"

namespace msg::session {

namespace json = boost::json;

SessionHub::SessionHub(bus::Bus& bus) {
    const std::string channel(kEventsChannel);
    subscription_ = bus.subscribe(
        channel, [this](const bus::Payload& p) { deliver(p); }, [this] { lost(); });
}

void SessionHub::lost() {
    // Events of other nodes may be gone (notes, statuses, invitations): every socket here
    // refetches what it shows.
    const auto frame = core::json_frame(json::object{{"type", "resync_required"}});
    std::lock_guard lock(mutex_);
    for (const auto& [tenant, users] : tenants_) {
        for (const auto& [user, entries] : users) {
            for (const auto& e : entries) {
                if (auto c = e.connection.lock()) c->send(frame);
            }
        }
    }
}

void SessionHub::add(const std::string& tenant_id, std::int64_t user_id, const Socket& socket) {
    std::lock_guard lock(mutex_);
    tenants_[tenant_id][user_id].push_back(
        {socket.connection->id(), socket.session_id, socket.generation, socket.connection});
    ++count_;
}

void SessionHub::remove(const std::string& tenant_id, std::int64_t user_id,
                        std::uint64_t socket_id) {
    std::lock_guard lock(mutex_);
    auto tenant = tenants_.find(tenant_id);
    if (tenant == tenants_.end()) return;
    auto user = tenant->second.find(user_id);
    if (user == tenant->second.end()) return;
    count_ -= std::erase_if(user->second, [&](const Entry& e) { return e.socket_id == socket_id; });
    if (user->second.empty()) tenant->second.erase(user);
    if (tenant->second.empty()) tenants_.erase(tenant);
}

std::size_t SessionHub::sockets() const {
    std::lock_guard lock(mutex_);
    return count_;
}

void SessionHub::deliver(const bus::Payload& event) {
    boost::system::error_code ec;
    auto parsed = json::parse(*event, ec);
    if (ec || !parsed.is_object()) return;  // undecodable: ignored (seed)
    const json::object& e = parsed.get_object();
    const json::value* kind_v = e.if_contains("kind");
    const json::value* tenant_v = e.if_contains("tenant_id");
    if (kind_v == nullptr || !kind_v->is_string() || tenant_v == nullptr ||
        !tenant_v->is_string()) {
        return;
    }
    const std::string_view kind = kind_v->get_string();
    const std::string tenant_id(tenant_v->get_string());

    // Recipients are collected under the lock and served outside it (STYLE rule 9).
    std::vector<std::pair<std::shared_ptr<core::WsConnection>, core::Frame>> sends;
    std::vector<std::shared_ptr<core::WsConnection>> closes;
    auto send_to = [&sends](const std::vector<Entry>& entries, const core::Frame& frame) {
        for (const auto& entry : entries) {
            if (auto c = entry.connection.lock()) sends.emplace_back(std::move(c), frame);
        }
    };
    {
        std::lock_guard lock(mutex_);
        auto tenant = tenants_.find(tenant_id);
        if (tenant == tenants_.end()) return;
        Users& users = tenant->second;

        if (kind == "broadcast_tenant") {
            const json::value* payload = e.if_contains("payload");
            if (payload == nullptr || !payload->is_object()) return;
            auto frame = core::json_frame(*payload);
            for (const auto& [user, entries] : users) send_to(entries, frame);
        } else if (kind == "notify_user") {
            const json::value* payload = e.if_contains("payload");
            const json::value* user_v = e.if_contains("user_id");
            auto user = user_v ? core::parse_id(*user_v) : std::nullopt;
            if (!user || payload == nullptr || !payload->is_object()) return;
            auto it = users.find(*user);
            if (it != users.end()) send_to(it->second, core::json_frame(*payload));
        } else if (kind == "notify_users") {
            const json::value* by = e.if_contains("payload_by");
            if (by == nullptr || !by->is_object()) return;
            for (const auto& [key, text] : by->get_object()) {
                auto user = core::parse_id(std::string_view(key));
                if (!user || !text.is_string()) continue;
                auto it = users.find(*user);
                if (it != users.end())
                    send_to(it->second, std::make_shared<const std::string>(text.get_string()));
            }
        } else if (kind == "close_session") {
            const json::value* user_v = e.if_contains("user_id");
            const json::value* session_v = e.if_contains("session_id");
            const json::value* before_v = e.if_contains("before_generation");
            auto user = user_v ? core::parse_id(*user_v) : std::nullopt;
            if (!user || session_v == nullptr || !session_v->is_string() || before_v == nullptr ||
                !before_v->is_int64()) {
                return;
            }
            auto it = users.find(*user);
            if (it == users.end()) return;
            for (const auto& entry : it->second) {
                if (entry.session_id != session_v->get_string() ||
                    entry.generation >= before_v->get_int64()) {
                    continue;
                }
                if (auto c = entry.connection.lock()) closes.push_back(std::move(c));
            }
        }
        // Unknown kinds are ignored (seed).
    }
    for (auto& [connection, frame] : sends) connection->send(frame);
    for (auto& connection : closes) connection->close(1008, "session ended");
}

}  // namespace msg::session
