#include "files/model.hpp"

#include <boost/json/object.hpp>
#include <charconv>

#include "blob/blob_store.hpp"
#include "core/text.hpp"

namespace msg::files {

boost::json::object to_json(const FileObject& f) {
    return {{"tenant_id", f.tenant_id},
            {"id", f.id},
            {"room_id", f.room_id},
            {"uploader_id", f.uploader_id},
            {"object_key", f.object_key},
            {"content_type", f.content_type},
            {"size_bytes", f.size_bytes},
            {"thumbnail_key", f.thumbnail_key},
            {"thumbnail_status", f.thumbnail_status},
            {"original_name", f.original_name},
            {"created_at", f.created_at}};
}

core::Result<ResolvedKey> resolve_key(std::string_view tenant_id, std::int64_t user_id,
                                      std::string_view key, KeyUse use) {
    key = core::trim(key);
    if (key.starts_with('/')) key.remove_prefix(1);
    if (key.empty()) return core::invalid("object_key is required");
    const std::string prefix = "tenants/" + std::string(tenant_id) + "/";
    if (key.starts_with(prefix)) key.remove_prefix(prefix.size());
    ResolvedKey out;
    out.stored = prefix + std::string(key);
    if (out.stored.size() > kMaxKeyBytes || !blob::valid_key(out.stored)) {
        return core::invalid("object_key is invalid");
    }
    auto first_segment_id = [](std::string_view rest) -> std::optional<std::int64_t> {
        const auto slash = rest.find('/');
        if (slash == std::string_view::npos || slash == 0) return std::nullopt;
        std::int64_t id = 0;
        auto [end, ec] = std::from_chars(rest.data(), rest.data() + slash, id);
        if (ec != std::errc{} || end != rest.data() + slash || id <= 0) return std::nullopt;
        return id;
    };
    if (key.starts_with("rooms/")) {
        out.room_id = first_segment_id(key.substr(6));
        if (out.room_id) return out;
    } else if (key.starts_with("users/")) {
        if (first_segment_id(key.substr(6)) == user_id) return out;
    } else if (key.starts_with("notes/")) {
        // Written only into the uploader's own folder, so a notes/ object has one known author
        // and nobody can replace another user's attachment.
        out.note = true;
        if (use == KeyUse::read || first_segment_id(key.substr(6)) == user_id) return out;
    }
    return core::invalid(
        "object_key must start with rooms/<room_id>/, users/<your id>/ or notes/<your id>/");
}

std::string thumbnail_key_for(std::string_view key) {
    const auto slash = key.rfind('/');
    const auto dot = key.rfind('.');
    const bool has_extension =
        dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash + 1);
    std::string thumb = std::string(has_extension ? key.substr(0, dot) : key) + "_thumb.jpg";
    // A key near the length limit has no room for the suffix (found by the file_key fuzzer:
    // the thumbnail's put failed on an invalid key).
    return blob::valid_key(thumb) ? thumb : std::string();
}

}  // namespace msg::files
