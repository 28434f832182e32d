#include "org/model.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/json.hpp"
#include "core/text.hpp"

namespace msg::org {

namespace json = boost::json;

json::value to_json(const User& u) {
    return json::object{{"tenant_id", u.tenant_id},
                        {"id", u.id},
                        {"org_id", u.org_id},
                        {"email", u.email},
                        {"name", u.name},
                        {"title", u.title},
                        {"role", u.role},
                        {"status", u.status},
                        {"status_note", u.status_note},
                        {"created_at", u.created_at},
                        {"updated_at", u.updated_at}};
}

json::value to_json(const OrgUnit& o) {
    json::object out{{"tenant_id", o.tenant_id}, {"id", o.id}};
    if (o.parent_id) out["parent_id"] = *o.parent_id;
    out["name"] = o.name;
    out["created_at"] = o.created_at;
    return out;
}

json::value to_json(const AliasAudit& a) {
    return json::object{{"tenant_id", a.tenant_id},
                        {"id", a.id},
                        {"user_id", a.user_id},
                        {"alias", a.alias},
                        {"action", a.action},
                        {"acted_by", a.acted_by},
                        {"ip", a.ip},
                        {"user_agent", a.user_agent},
                        {"created_at", a.created_at}};
}

bool valid_role(std::string_view r) { return r == "admin" || r == "manager" || r == "user"; }

bool valid_status(std::string_view s) {
    return s == "online" || s == "offline" || s == "busy" || s == "away" || s == "meeting";
}

bool valid_email(std::string_view e) {
    if (e.size() > kMaxEmailBytes) return false;
    auto at = e.find('@');
    if (at == std::string_view::npos || at == 0 || at > 64 || e.find('@', at + 1) != e.npos) {
        return false;
    }
    for (unsigned char c : e) {
        if (c <= 0x20 || c == 0x7f) return false;
    }
    auto domain = e.substr(at + 1);
    auto dot = domain.find('.');
    return dot != std::string_view::npos && dot > 0 && domain.back() != '.';
}

namespace {

/// True when every code point is [A-Za-z0-9_] or a Hangul syllable (U+AC00–U+D7A3).
bool alias_characters_ok(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = s[i];
        if (c < 0x80) {
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_';
            if (!ok) return false;
            ++i;
            continue;
        }
        // Hangul syllables are three-byte sequences.
        if ((c & 0xF0) != 0xE0 || i + 2 >= s.size()) return false;
        unsigned cp = ((c & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
        if (cp < 0xAC00 || cp > 0xD7A3) return false;
        i += 3;
    }
    return true;
}

}  // namespace

core::Result<std::string> normalize_alias_for_add(std::string_view raw) {
    auto alias = core::trim(raw);
    if (alias.empty()) return core::invalid("alias is required");
    if (core::utf8_length(alias) > kMaxAliasChars) return core::invalid("alias is too long");
    if (!alias_characters_ok(alias)) {
        return core::invalid(
            "alias may only contain letters, digits, underscore, and Korean characters");
    }
    return core::ascii_lower(alias);
}

core::Result<std::string> normalize_alias_for_delete(std::string_view raw) {
    auto alias = core::trim(raw);
    if (alias.empty()) return core::invalid("alias is required");
    if (core::utf8_length(alias) > kMaxAliasChars || !alias_characters_ok(alias)) {
        return core::invalid("alias format is invalid");
    }
    return core::ascii_lower(alias);
}

std::string user_search_text(std::string_view name, std::string_view email, std::string_view title,
                             std::string_view aliases) {
    std::string out;
    out.reserve(name.size() + email.size() + title.size() + aliases.size() + 3);
    out.append(name).append(1, '\n').append(email).append(1, '\n').append(title);
    out.append(1, '\n').append(aliases);
    return out;
}

}  // namespace msg::org
