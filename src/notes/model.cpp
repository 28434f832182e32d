#include "notes/model.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>

namespace msg::notes {

namespace json = boost::json;

json::array to_json(const std::vector<NoteFile>& files) {
    json::array out;
    for (const auto& f : files) {
        out.push_back(json::object{{"file_name", f.file_name},
                                   {"object_key", f.object_key},
                                   {"content_type", f.content_type},
                                   {"size_bytes", f.size_bytes}});
    }
    return out;
}

json::object to_json(const Note& n) {
    json::array recipients;
    for (const auto& r : n.recipients) {
        recipients.push_back(json::object{{"user_id", r.user_id}, {"type", r.type}});
    }
    return json::object{{"note_id", n.note_id},
                        {"tenant_id", n.tenant_id},
                        {"sender_user_id", n.sender_user_id},
                        {"title", n.title},
                        {"body", n.body},
                        {"recipients", std::move(recipients)},
                        {"files", to_json(n.files)},
                        {"created_at", n.created_at}};
}

json::object to_json(const InboxItem& i) {
    json::object out{{"note_id", i.note_id},
                     {"sender_user_id", i.sender_user_id},
                     {"recipient_type", i.recipient_type},
                     {"title", i.title},
                     {"body", i.body},
                     {"file_count", i.file_count},
                     {"is_read", i.is_read},
                     {"created_at", i.created_at}};
    out["read_at"] = i.read_at ? json::value(*i.read_at) : json::value(nullptr);
    return out;
}

std::vector<Recipient> merge_recipients(const std::vector<std::int64_t>& to,
                                        const std::vector<std::int64_t>& cc,
                                        const std::vector<std::int64_t>& bcc) {
    std::vector<Recipient> out;
    auto add = [&out](const std::vector<std::int64_t>& ids, const char* type) {
        for (auto id : ids) {
            const bool seen = std::any_of(out.begin(), out.end(),
                                          [id](const Recipient& r) { return r.user_id == id; });
            if (!seen) out.push_back({id, type});
        }
    };
    add(to, "to");
    add(cc, "cc");
    add(bcc, "bcc");
    return out;
}

}  // namespace msg::notes
