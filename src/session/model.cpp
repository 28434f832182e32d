#include "session/model.hpp"

#include <boost/json/array.hpp>

#include <algorithm>

#include "core/text.hpp"

namespace msg::session {

namespace json = boost::json;

json::object to_json(const DeviceSession& s, std::string_view session_token,
                     std::string_view auth_token) {
    json::array allowed;
    for (const auto& t : s.allowed_tenants) allowed.emplace_back(t);
    return json::object{{"session_id", s.session_id},     {"tenant_id", s.tenant_id},
                        {"user_id", s.user_id},           {"device_id", s.device_id},
                        {"device_name", s.device_name},   {"auth_token", auth_token},
                        {"session_token", session_token}, {"allowed_tenants", std::move(allowed)},
                        {"last_seen_at", s.last_seen_at}, {"created_at", s.created_at}};
}

json::object status_changed_event(const std::string& tenant_id, const org::StatusChange& change) {
    return json::object{{"type", "status.changed"},          {"tenant_id", tenant_id},
                        {"user_id", change.user_id},         {"status", change.status},
                        {"status_note", change.status_note}, {"updated_at", change.updated_at}};
}

namespace {
bool is_hex(char c, bool upper_ok) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (upper_ok && c >= 'A' && c <= 'F');
}
}  // namespace

bool valid_session_id(std::string_view s) {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i], true)) return false;
    }
    return true;
}

bool valid_session_token(std::string_view s) {
    return s.size() == kSessionTokenBytes * 2 &&
           std::all_of(s.begin(), s.end(), [](char c) { return is_hex(c, false); });
}

core::Result<std::string> normalize_status(std::string_view raw) {
    std::string status = core::ascii_lower(core::trim(raw));
    if (status.empty()) return core::invalid("status is required");
    if (!org::valid_status(status)) {
        return core::invalid("status must be one of online|offline|busy|away|meeting");
    }
    return status;
}

std::vector<std::string> clean_allowed_tenants(const std::vector<std::string>& in,
                                               const std::string& own_tenant) {
    std::vector<std::string> out;
    auto add = [&out](std::string_view t) {
        t = core::trim(t);
        if (!t.empty() && std::find(out.begin(), out.end(), t) == out.end()) out.emplace_back(t);
    };
    for (const auto& t : in) add(t);
    add(own_tenant);
    return out;
}

}  // namespace msg::session
