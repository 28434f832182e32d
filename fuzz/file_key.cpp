// Object keys a client names (presign, file registration, note attachments):
// files::resolve_key, blob::valid_key, files::thumbnail_key_for. Invariants: a resolved key
// lies under the caller's tenant and passes the store's key rules; a write lands in a room
// folder or the caller's own users/ or notes/ folder, never another user's; resolving the
// stored key again gives the same key; a thumbnail stays in its file's folder.
#include <charconv>
#include <string>
#include <string_view>

#include "blob/blob_store.hpp"
#include "files/model.hpp"
#include "fuzz/fuzz.hpp"

using namespace msg;

namespace {

std::optional<std::int64_t> leading_id(std::string_view rest) {
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + slash, id);
    if (ec != std::errc{} || end != rest.data() + slash) return std::nullopt;
    return id;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto use = (data[0] & 1) != 0 ? files::KeyUse::read : files::KeyUse::write;
    const std::int64_t user = 1 + (data[0] >> 1);  // 1..128: collides with ids in keys
    const std::string_view key(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::string tenant = "t1";
    const std::string prefix = "tenants/t1/";

    if (blob::valid_key(key)) {
        FUZZ_CHECK(!key.empty() && key.front() != '/' && key.back() != '/');
        FUZZ_CHECK(key.find("/../") == std::string_view::npos && !key.starts_with("../"));
        FUZZ_CHECK(fuzz::valid_utf8(key));
    }

    auto r = files::resolve_key(tenant, user, key, use);
    if (!r) {
        FUZZ_CHECK(r.error().code == core::ErrorCode::invalid_argument);
        return 0;
    }
    const std::string& stored = r->stored;
    FUZZ_CHECK(stored.starts_with(prefix));
    FUZZ_CHECK(stored.size() <= files::kMaxKeyBytes && blob::valid_key(stored));
    const std::string_view rest = std::string_view(stored).substr(prefix.size());
    if (rest.starts_with("rooms/")) {
        FUZZ_CHECK(r->room_id && leading_id(rest.substr(6)) == r->room_id && *r->room_id > 0);
        FUZZ_CHECK(!r->note);
    } else if (rest.starts_with("users/")) {
        FUZZ_CHECK(leading_id(rest.substr(6)) == user && !r->room_id && !r->note);
    } else {
        FUZZ_CHECK(rest.starts_with("notes/") && r->note && !r->room_id);
        if (use == files::KeyUse::write) FUZZ_CHECK(leading_id(rest.substr(6)) == user);
    }

    auto again = files::resolve_key(tenant, user, stored, use);
    FUZZ_CHECK(again && again->stored == stored && again->room_id == r->room_id);
    // Another tenant naming the stored key gets it under its own prefix, never ours.
    auto other = files::resolve_key("t2", user, stored, use);
    FUZZ_CHECK(!other || other->stored.starts_with("tenants/t2/"));

    const std::string thumb = files::thumbnail_key_for(stored);
    if (thumb.empty()) {  // only when the suffix does not fit under the limit
        FUZZ_CHECK(stored.size() + std::string_view("_thumb.jpg").size() > 512);
        return 0;
    }
    FUZZ_CHECK(thumb != stored && blob::valid_key(thumb));
    FUZZ_CHECK(thumb.substr(0, thumb.rfind('/')) == stored.substr(0, stored.rfind('/')));
    return 0;
}
