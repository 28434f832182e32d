// Request bodies: core::parse_object, then core::BodyReader with every rule over the object's
// own keys, and the module readers that live outside handler coroutines (chat's send fields,
// the files of a note). Invariants: what a reader hands back is within its bounds and valid
// UTF-8; ids are in 1..kMaxId.
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

#include "chat/handlers.hpp"
#include "chat/model.hpp"
#include "core/json.hpp"
#include "fuzz/fuzz.hpp"
#include "notes/handlers.hpp"
#include "notes/model.hpp"

namespace {

using msg::core::BodyReader;
using msg::fuzz::valid_utf8;

/// Equal JSON, a double within a relative 1e-12: Boost.JSON 1.81 parses decimals past 2^64
/// without correct rounding, so 925074019925474092547400 and its serialized form
/// 9.250740199254741E23 may land a few ulps apart (found by this fuzzer; we never compute with
/// such numbers, only relay them).
bool same(const boost::json::value& a, const boost::json::value& b) {
    if (a.is_double() && b.is_double()) {
        const double x = a.get_double(), y = b.get_double();
        return x == y || std::fabs(x - y) <= 1e-12 * std::max(std::fabs(x), std::fabs(y));
    }
    if (a.kind() != b.kind()) return false;
    if (a.is_array()) {
        const auto &p = a.get_array(), &q = b.get_array();
        if (p.size() != q.size()) return false;
        for (std::size_t i = 0; i < p.size(); ++i) {
            if (!same(p[i], q[i])) return false;
        }
        return true;
    }
    if (a.is_object()) {
        const auto &p = a.get_object(), &q = b.get_object();
        if (p.size() != q.size()) return false;
        for (const auto& [k, v] : p) {
            const auto* w = q.if_contains(k);
            if (w == nullptr || !same(v, *w)) return false;
        }
        return true;
    }
    return a == b;
}

void check_string(const std::optional<std::string>& s, std::size_t max_bytes) {
    if (!s) return;
    FUZZ_CHECK(s->size() <= max_bytes);
    FUZZ_CHECK(valid_utf8(*s));
}

void check_id(std::optional<std::int64_t> id) {
    if (id) FUZZ_CHECK(*id >= 1 && *id <= msg::core::kMaxId);
}

void read_every_way(const boost::json::object& obj, std::string_view key) {
    BodyReader body(obj);
    check_string(body.string(key, {.max_bytes = 16}), 16);
    check_string(body.string(key, {.required = true, .max_bytes = 64, .trim = true}), 64);
    check_id(body.id(key));
    (void)body.boolean(key);
    (void)body.integer(key, true);
    if (auto ids = body.ids(key, {.max_items = 8})) {
        FUZZ_CHECK(ids->size() <= 8);
        for (auto id : *ids) check_id(id);
    }
    if (auto items = body.strings(key, {.max_items = 4}, {.max_bytes = 8, .trim = true})) {
        FUZZ_CHECK(items->size() <= 4);
        for (const auto& item : *items) {
            FUZZ_CHECK(!item.empty());
            check_string(item, 8);
        }
    }
    // The first error is kept, whatever came after it.
    if (body.error()) FUZZ_CHECK(!body.error()->message.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto obj = msg::core::parse_object(text);
    if (!obj) {
        FUZZ_CHECK(obj.error().message == "invalid json");
        return 0;
    }
    // The parser rejects invalid UTF-8, so every key and string is valid.
    for (const auto& [key, value] : *obj) {
        FUZZ_CHECK(valid_utf8(key));
        read_every_way(*obj, key);
    }
    read_every_way(*obj, "absent");

    if (auto in = msg::chat::read_new_message(*obj)) {
        check_string(in->body, msg::chat::kMaxBodyBytes);
        check_string(in->client_msg_id, msg::chat::kMaxClientMsgIdBytes);
        if (in->client_msg_id) FUZZ_CHECK(!in->client_msg_id->empty());
        // file_id plus up to kMaxAttachments distinct file_ids.
        FUZZ_CHECK(in->attachments.file_ids.size() <= msg::chat::kMaxAttachments + 1);
        for (auto id : in->attachments.file_ids) check_id(id);
        if (const auto& emojis = in->attachments.emojis) {
            FUZZ_CHECK(emojis->size() <= msg::chat::kMaxAttachments);
            for (const auto& e : *emojis) check_string(e, msg::chat::kMaxEmojiBytes);
        }
    }
    if (auto files = msg::notes::read_files(*obj)) {
        FUZZ_CHECK(files->size() <= msg::notes::kMaxFiles);
        for (const auto& f : *files) {
            check_string(f.file_name, msg::notes::kMaxFileNameBytes);
            check_string(f.object_key, msg::notes::kMaxObjectKeyBytes);
            check_string(f.content_type, msg::notes::kMaxContentTypeBytes);
            FUZZ_CHECK(f.size_bytes >= 0);
        }
    }
    // What was parsed serializes and parses back to the same object.
    auto again = msg::core::parse_object(boost::json::serialize(*obj));
    FUZZ_CHECK(again && same(*again, *obj));
    return 0;
}
