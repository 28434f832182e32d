#include "chat/model.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

#include "core/json.hpp"

namespace msg::chat {

namespace json = boost::json;

std::string make_meta_json(const Attachments& a) {
    json::object meta;
    if (a.emojis) {
        json::array e;
        for (const auto& s : *a.emojis) e.emplace_back(s);
        meta["emojis"] = std::move(e);
    } else {
        meta["emojis"] = nullptr;
    }
    if (!a.file_ids.empty()) {
        meta["file_id"] = a.file_ids.front();
        json::array ids;
        for (auto id : a.file_ids) ids.emplace_back(id);
        meta["file_ids"] = std::move(ids);
    }
    return json::serialize(meta);
}

namespace {

/// Decodes one UTF-8 code point at `i` (input is valid UTF-8); advances `i`.
char32_t next_code_point(std::string_view s, std::size_t& i) {
    unsigned char c = s[i];
    if (c < 0x80) {
        ++i;
        return c;
    }
    int len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    char32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (int k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
    i += len;
    return cp;
}

bool token_char(char32_t c) {
    if (c < 0x80) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    }
    return (c >= 0xAC00 && c <= 0xD7A3)     // Hangul syllables
           || (c >= 0x1100 && c <= 0x11FF)  // Hangul jamo
           || (c >= 0x3130 && c <= 0x318F)  // Hangul compatibility jamo
           || (c >= 0x4E00 && c <= 0x9FFF)  // CJK ideographs
           || (c >= 0x3040 && c <= 0x30FF)  // kana
           || (c >= 0x00C0 && c <= 0x024F && c != 0x00D7 && c != 0x00F7);  // Latin letters
}

}  // namespace

std::vector<std::string> mention_tokens(std::string_view body) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < body.size()) {
        if (body[i] != '@') {
            next_code_point(body, i);
            continue;
        }
        ++i;
        const std::size_t start = i;
        std::size_t end = i;
        while (end < body.size()) {
            std::size_t probe = end;
            if (!token_char(next_code_point(body, probe))) break;
            end = probe;
        }
        i = end;
        if (end == start) continue;
        std::string token(body.substr(start, end - start));
        if (std::find(out.begin(), out.end(), token) == out.end()) out.push_back(std::move(token));
        if (out.size() >= 50) break;  // bounded
    }
    return out;
}

namespace {
bool non_empty_array(const json::object& o, std::string_view key) {
    auto it = o.find(key);
    return it != o.end() && it->value().is_array() && !it->value().get_array().empty();
}
}  // namespace

std::string message_kind(const json::value& meta) {
    if (!meta.is_object()) return "text";
    const auto& o = meta.get_object();
    auto file_id = o.find("file_id");
    bool has_file = (file_id != o.end() && !file_id->value().is_null() &&
                     !(file_id->value().is_string() && file_id->value().get_string().empty())) ||
                    non_empty_array(o, "file_ids");
    if (has_file) return "file";
    if (non_empty_array(o, "emojis")) return "emoji";
    return "text";
}

std::string message_summary(const Message& m, const json::value& meta) {
    const auto kind = message_kind(meta);
    if (kind == "file") return "[파일]";
    if (kind == "emoji" && m.body.empty()) return "[이모지]";
    if (m.body.empty()) return "";
    // The first 120 characters (code points), never cutting one in half.
    std::size_t i = 0, count = 0;
    while (i < m.body.size() && count < 120) {
        next_code_point(m.body, i);
        ++count;
    }
    return m.body.substr(0, std::min(i, m.body.size()));
}

std::shared_ptr<const std::string> room_frame(std::string_view type, std::int64_t room_id,
                                              std::int64_t user_id,
                                              std::optional<std::int64_t> target_id,
                                              const json::value& payload) {
    json::object frame;
    frame.reserve(5);
    frame["type"] = type;
    frame["room_id"] = room_id;
    frame["user_id"] = user_id;
    if (target_id) {
        frame["target_id"] = *target_id;
    } else {
        frame["target_id"] = "";
    }
    frame["payload"] = payload;
    return std::make_shared<const std::string>(json::serialize(frame));
}

json::value to_json(const Message& m) {
    boost::system::error_code ec;
    json::value meta = json::parse(m.meta_json, ec);
    if (ec) meta = json::object{};
    json::object out{
        {"tenant_id", m.tenant_id}, {"id", m.id},     {"room_id", m.room_id},    {"seq", m.seq},
        {"sender_id", m.sender_id}, {"body", m.body}, {"meta_json", m.meta_json}};
    json::value emojis = nullptr;
    json::array file_ids;
    if (meta.is_object()) {
        if (auto* e = meta.get_object().if_contains("emojis"); e && e->is_array()) emojis = *e;
        if (auto* f = meta.get_object().if_contains("file_ids"); f && f->is_array()) {
            file_ids = f->get_array();
        }
    }
    out["emojis"] = std::move(emojis);
    out["file_ids"] = std::move(file_ids);
    json::array mentions;
    for (auto& t : mention_tokens(m.body)) mentions.emplace_back(t);
    out["mentions"] = std::move(mentions);
    if (m.client_msg_id) out["client_msg_id"] = *m.client_msg_id;
    out["created_at"] = m.created_at;
    return out;
}

json::value to_json(const RoomSummary& r) {
    json::object out{{"room_id", r.room_id},
                     {"name", r.name},
                     {"room_type", r.room_type},
                     {"created_by", r.created_by},
                     {"created_at", r.created_at}};
    if (r.peer_user_id) {
        out["peer_user_id"] = *r.peer_user_id;
        out["peer_name"] = r.peer_name.value_or("");
        out["peer_status"] = r.peer_status.value_or("");
        out["peer_status_note"] = r.peer_status_note.value_or("");
    }
    json::value meta = json::object{};
    if (r.latest) {
        boost::system::error_code ec;
        meta = json::parse(r.latest->meta_json, ec);
        if (ec) meta = json::object{};
        out["latest_message_id"] = r.latest->id;
        out["latest_message_body"] = r.latest->body;
    }
    out["latest_message_kind"] = message_kind(meta);
    out["latest_message_summary"] = r.latest ? message_summary(*r.latest, meta) : "";
    if (!r.mention_tokens.empty()) {
        json::array tokens;
        for (const auto& t : r.mention_tokens) tokens.emplace_back(t);
        out["latest_message_mention_tokens"] = std::move(tokens);
    }
    out["latest_message_is_mentioned"] = r.is_mentioned;
    if (r.latest) {
        out["latest_message_at"] = r.latest->created_at;
        out["latest_message_sender"] = r.latest->sender_id;
    }
    out["unread_count"] = r.unread_count;
    return out;
}

json::value to_json(const Reader& r) {
    return json::object{{"room_id", r.room_id},
                        {"message_id", r.message_id},
                        {"user_id", r.user_id},
                        {"read_at", r.read_at}};
}

std::vector<std::size_t> relevance_order(const std::vector<double>& text_scores,
                                         const std::vector<std::optional<double>>& vector_scores) {
    const std::size_t n = text_scores.size();
    // Rank (1-based) of each item in an order by score, descending; ties by original position.
    auto ranks = [n](auto score_of, auto present) {
        std::vector<std::size_t> order;
        for (std::size_t i = 0; i < n; ++i) {
            if (present(i)) order.push_back(i);
        }
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) { return score_of(a) > score_of(b); });
        std::vector<std::size_t> rank(n, 0);
        for (std::size_t r = 0; r < order.size(); ++r) rank[order[r]] = r + 1;
        return rank;
    };
    const auto text_rank =
        ranks([&](std::size_t i) { return text_scores[i]; }, [](std::size_t) { return true; });
    const auto vector_rank =
        ranks([&](std::size_t i) { return *vector_scores[i]; },
              [&](std::size_t i) { return i < vector_scores.size() && vector_scores[i]; });
    constexpr double kK = 60;
    std::vector<double> fused(n);
    for (std::size_t i = 0; i < n; ++i) {
        fused[i] = 1.0 / (kK + static_cast<double>(text_rank[i]));
        if (vector_rank[i] != 0) fused[i] += 1.0 / (kK + static_cast<double>(vector_rank[i]));
    }
    std::vector<std::size_t> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = i;
    std::stable_sort(out.begin(), out.end(),
                     [&](std::size_t a, std::size_t b) { return fused[a] > fused[b]; });
    return out;
}

}  // namespace msg::chat
