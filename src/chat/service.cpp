#include "chat/service.hpp"

#include <boost/json/object.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "bus/bus.hpp"
#include "core/base64url.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/text.hpp"
#include "data/executor.hpp"
#include "search/tokenizer.hpp"

namespace msg::chat {

using core::Result;
using core::Task;
namespace json = boost::json;

ChatService::ChatService(data::Executor& db, bus::Bus& bus, const core::Clock& clock,
                         core::Metrics& metrics, ChatLimits limits)
    : db_(db),
      bus_(bus),
      sends_(limits.sends_per_user_per_second, std::chrono::seconds(1), clock),
      batcher_(db, limits.batching),
      persisted_(metrics.counter("msg_messages_persisted_total", "Messages committed.")) {}

Task<Result<std::string>> ChatService::require_member(const core::Principal& caller,
                                                      std::int64_t room_id) {
    auto m = co_await db_.run<Membership>(caller.tenant_id, room_id, caller.user_id);
    if (!m) co_return m.error();
    if (!m->member) co_return core::forbidden("room access denied");
    co_return m->room_type;
}

Task<Result<std::vector<MemberRoom>>> ChatService::member_rooms(
    const core::Principal& caller, std::vector<std::int64_t> room_ids) {
    auto r = co_await db_.run<MemberRooms>(caller.tenant_id, caller.user_id, std::move(room_ids));
    if (!r) co_return r.error();
    co_return std::move(r->rooms);
}

Task<Result<CreateRoom::Response>> ChatService::create_room(const core::Principal& caller,
                                                            NewRoom in) {
    if (in.room_type.empty()) in.room_type = "group";
    if (in.room_type != "group" && in.room_type != "direct") {
        co_return core::invalid("room_type must be group or direct");
    }
    std::erase(in.member_ids, caller.user_id);
    std::sort(in.member_ids.begin(), in.member_ids.end());
    in.member_ids.erase(std::unique(in.member_ids.begin(), in.member_ids.end()),
                        in.member_ids.end());
    if (in.room_type == "direct" && in.member_ids.size() != 1) {
        co_return core::invalid("a direct room needs exactly one other member");
    }
    co_return co_await db_.run<CreateRoom>(caller.tenant_id, caller.user_id, std::move(in.name),
                                           std::move(in.room_type), std::move(in.member_ids));
}

Task<Result<ChatService::RoomPage>> ChatService::list_rooms(const core::Principal& caller,
                                                            int limit,
                                                            std::optional<std::string> cursor) {
    ListRooms::Request req;
    req.tenant_id = caller.tenant_id;
    req.user_id = caller.user_id;
    req.limit = limit + 1;
    if (cursor) {
        auto c = core::decode_cursor(*cursor);
        if (!c) co_return core::invalid("cursor is invalid");
        req.cursor_unix_nanos = c->unix_nanos;
        req.cursor_room_id = c->id;
    }
    auto r = co_await db_.run<ListRooms>(std::move(req));
    if (!r) co_return r.error();
    RoomPage page;
    page.items = std::move(r->items);
    if (page.items.size() > static_cast<std::size_t>(limit)) {
        page.items.resize(static_cast<std::size_t>(limit));
        const auto& last = page.items.back();
        page.next_cursor = core::encode_cursor({last.activity_unix_nanos, last.room_id});
    }
    co_return page;
}

Task<Result<void>> ChatService::add_member(const core::Principal& caller, std::int64_t room_id,
                                           std::int64_t user_id) {
    auto r = co_await db_.run<AddMember>(caller.tenant_id, room_id, user_id, caller.user_id);
    if (!r) co_return r.error();
    co_return Result<void>{};
}

Task<Result<void>> ChatService::remove_member(const core::Principal& caller, std::int64_t room_id,
                                              std::int64_t user_id) {
    RemoveMember::Request req{caller.tenant_id, room_id, user_id, caller.user_id,
                              caller.role == "admin"};
    auto r = co_await db_.run<RemoveMember>(std::move(req));
    if (!r) co_return r.error();
    publish(caller, removal_event(room_id, user_id, caller.user_id));
    co_return Result<void>{};
}

void ChatService::publish(const core::Principal& caller, const RoomEvent& event) {
    bus_.publish(bus::room_channel(caller.tenant_id, event.room_id), encode(event));
}

Task<Result<SendMessage::Response>> ChatService::send(const core::Principal& caller,
                                                      std::int64_t room_id, NewMessage in) {
    // Only whitespace counts as no body (seed §4: trimmed, then refused), unless something
    // else is attached. The body is stored as sent.
    if (core::trim(in.body).empty() && in.attachments.file_ids.empty() &&
        !(in.attachments.emojis && !in.attachments.emojis->empty())) {
        co_return core::invalid("body is required");
    }
    if (int wait = sends_.acquire(caller.tenant_id + ":" + std::to_string(caller.user_id))) {
        co_return core::Error{core::ErrorCode::too_many_requests, "too many requests", wait};
    }
    if (!in.attachments.file_ids.empty()) {
        // Attachments must be registered files of this room (file_ids are de-duplicated).
        RoomFilesExist::Request check{caller.tenant_id, room_id, caller.user_id,
                                      in.attachments.file_ids};
        auto files = co_await db_.run<RoomFilesExist>(std::move(check));
        if (!files) co_return files.error();
        if (!files->member) co_return core::forbidden("room access denied");
        if (files->found != static_cast<std::int64_t>(in.attachments.file_ids.size())) {
            co_return core::invalid("file_ids must be registered files of this room");
        }
    }
    std::string meta = make_meta_json(in.attachments);
    auto tokens = search::index_tokens(in.body);
    SendMessage::Request send{caller.tenant_id,   room_id,         caller.user_id,
                              std::move(in.body), std::move(meta), std::move(in.client_msg_id),
                              std::move(tokens)};
    auto r = co_await batcher_.send(send);  // committed with the sends around it
    if (!r) co_return r.error();
    if (!r->duplicate) {
        persisted_.inc();
        publish(caller, message_event(r->message));
    }
    co_return r;
}

Task<Result<ChatService::MessagePage>> ChatService::search(
    const core::Principal& caller, std::string q, std::optional<std::int64_t> room_id, int limit,
    std::optional<std::string> cursor, bool by_relevance) {
    const std::string_view trimmed = core::trim(q);
    if (trimmed.empty()) co_return core::invalid("q is required");
    if (core::utf8_length(trimmed) > kMaxSearchQueryChars) co_return core::invalid("q is too long");
    if (room_id) {
        auto member = co_await require_member(caller, *room_id);
        if (!member) co_return member.error();
    }
    SearchMessages::Request req;
    req.tenant_id = caller.tenant_id;
    req.user_id = caller.user_id;
    req.room_id = room_id;
    if (cursor) {
        auto c = core::decode_cursor(*cursor);
        if (!c) co_return core::invalid("cursor is invalid");
        req.before_id = c->id;
    }
    const auto query = search::parse_query(trimmed);
    MessagePage page;
    if (query.empty()) co_return page;  // nothing searchable (punctuation, emoji)
    req.tsquery = search::to_tsquery(query);
    req.limit = limit + 1;
    // Index candidates, then verification (bigram false positives out). A few rounds at most,
    // so a query whose candidates mostly fail stays bounded; the page may then be short.
    // When the rounds run out with candidates left, the page is short but still has a cursor
    // (past the last candidate looked at), so nothing is skipped.
    bool candidates_left = false;
    std::int64_t last_candidate_nanos = 0;
    for (int round = 0; round < 5 && page.items.size() <= static_cast<std::size_t>(limit);
         ++round) {
        auto r = co_await db_.run<SearchMessages>(req);
        if (!r) co_return r.error();
        candidates_left = r->items.size() == static_cast<std::size_t>(req.limit);
        if (!r->items.empty()) {
            req.before_id = r->items.back().id;
            last_candidate_nanos = r->items.back().created_unix_nanos;
        }
        for (auto& m : r->items) {
            if (search::contains_all(m.body, query.terms)) page.items.push_back(std::move(m));
        }
        if (!candidates_left) break;
    }
    if (page.items.size() > static_cast<std::size_t>(limit)) {
        page.items.resize(static_cast<std::size_t>(limit));
        const auto& last = page.items.back();
        page.next_cursor = core::encode_cursor({last.created_unix_nanos, last.id});
    } else if (candidates_left) {
        page.next_cursor = core::encode_cursor({last_candidate_nanos, *req.before_id});
    }
    if (by_relevance && !cursor && page.items.size() > 1) {
        const std::string query_text(trimmed);
        co_await rerank(caller.tenant_id, query_text, query.terms, page.items);
    }
    co_return page;
}

Task<void> ChatService::rerank(const std::string& tenant_id, const std::string& query,
                               const std::vector<std::string>& terms, std::vector<Message>& items) {
    std::vector<double> text(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        text[i] = search::term_density(items[i].body, terms);
    }
    std::vector<std::optional<double>> vector(items.size());
    if (scorer_) {
        std::vector<std::int64_t> ids;
        ids.reserve(items.size());
        for (const auto& m : items) ids.push_back(m.id);
        std::vector<std::pair<std::int64_t, double>> scores;
        try {
            scores = co_await scorer_->similarity(tenant_id, query, ids);
        } catch (const std::exception& e) {
            // Best effort: the text rank alone still orders the page.
            core::logger("chat")->warn("rerank without vectors error=\"{}\"", e.what());
        }
        for (const auto& [id, score] : scores) {
            for (std::size_t i = 0; i < items.size(); ++i) {
                if (items[i].id == id) vector[i] = score;
            }
        }
    }
    const auto order = relevance_order(text, vector);
    std::vector<Message> reordered;
    reordered.reserve(items.size());
    for (auto i : order) reordered.push_back(std::move(items[i]));
    items = std::move(reordered);
}

Task<Result<ChatService::MessagePage>> ChatService::list_messages(
    const core::Principal& caller, std::int64_t room_id, int limit,
    std::optional<std::string> cursor, std::optional<std::int64_t> after_seq) {
    // Membership is checked by the page query itself (one round trip; 403 from there).
    ListMessages::Request req;
    req.tenant_id = caller.tenant_id;
    req.room_id = room_id;
    req.user_id = caller.user_id;
    req.limit = limit + 1;
    req.after_seq = after_seq;
    if (cursor && !after_seq) {
        auto c = core::decode_cursor(*cursor);
        if (!c) co_return core::invalid("cursor is invalid");
        req.before_seq = c->id;  // the cursor's id is the last seen seq
    }
    auto r = co_await db_.run<ListMessages>(std::move(req));
    if (!r) co_return r.error();
    MessagePage page;
    page.items = std::move(r->items);
    if (page.items.size() > static_cast<std::size_t>(limit)) {
        page.items.resize(static_cast<std::size_t>(limit));
        const auto& last = page.items.back();
        page.next_cursor = core::encode_cursor({last.created_unix_nanos, last.seq});
    }
    co_return page;
}

Task<Result<std::vector<ResumedRoom>>> ChatService::resume(
    const core::Principal& caller, std::vector<std::pair<std::int64_t, std::int64_t>> rooms,
    int per_room, int max_rows) {
    // The rows budget is shared: with many rooms each gets a smaller page (and `more`), so the
    // statement never reads more than about max_rows messages however many rooms it names.
    const auto rooms_n = static_cast<int>(std::max<std::size_t>(rooms.size(), 1));
    per_room = std::clamp(max_rows / rooms_n, 1, per_room);
    ResumeRooms::Request req;
    req.tenant_id = caller.tenant_id;
    req.user_id = caller.user_id;
    req.per_room = per_room + 1;  // one more tells whether the room has more
    req.room_ids.reserve(rooms.size());
    req.after_seqs.reserve(rooms.size());
    for (const auto& [room, after] : rooms) {
        req.room_ids.push_back(room);
        req.after_seqs.push_back(after);
    }
    auto r = co_await db_.run<ResumeRooms>(std::move(req));
    if (!r) co_return r.error();
    const std::set<std::int64_t> denied(r->denied.begin(), r->denied.end());
    std::map<std::int64_t, std::vector<Message>> by_room;
    for (auto& m : r->items) by_room[m.room_id].push_back(std::move(m));
    std::vector<ResumedRoom> out;
    out.reserve(rooms.size());
    for (const auto& [room, after] : rooms) {
        ResumedRoom one;
        one.room_id = room;
        one.last_seq = after;
        if (denied.contains(room)) {
            one.denied = true;
            out.push_back(std::move(one));
            continue;
        }
        auto& messages = by_room[room];
        if (messages.size() > static_cast<std::size_t>(per_room)) {
            messages.resize(static_cast<std::size_t>(per_room));
            one.more = true;
        }
        if (!messages.empty()) one.last_seq = messages.back().seq;
        one.messages = std::move(messages);
        out.push_back(std::move(one));
    }
    co_return out;
}

Task<Result<std::int64_t>> ChatService::unread_count(const core::Principal& caller,
                                                     std::int64_t room_id) {
    auto r = co_await db_.run<UnreadCount>(caller.tenant_id, room_id, caller.user_id);
    if (!r) co_return r.error();
    co_return r->count;
}

Task<Result<std::vector<RoomUnread>>> ChatService::unread_counts(const core::Principal& caller) {
    auto r = co_await db_.run<UnreadCounts>(caller.tenant_id, caller.user_id);
    if (!r) co_return r.error();
    co_return std::move(r->items);
}

Task<Result<MarkRead::Response>> ChatService::mark_read(const core::Principal& caller,
                                                        std::int64_t room_id,
                                                        std::int64_t message_id) {
    auto r = co_await db_.run<MarkRead>(caller.tenant_id, room_id, caller.user_id, message_id);
    if (!r) co_return r.error();
    if (r->moved) {
        publish(caller, read_event(room_id, caller.user_id, message_id, r->seq));
    }
    co_return r;
}

Task<Result<std::optional<std::int64_t>>> ChatService::last_read(const core::Principal& caller,
                                                                 std::int64_t room_id) {
    auto r = co_await db_.run<LastRead>(caller.tenant_id, room_id, caller.user_id);
    if (!r) co_return r.error();
    co_return r->message_id;
}

Task<Result<std::vector<Reader>>> ChatService::readers(const core::Principal& caller,
                                                       std::int64_t room_id,
                                                       std::int64_t message_id) {
    auto r = co_await db_.run<ListReaders>(caller.tenant_id, room_id, message_id, caller.user_id);
    if (!r) co_return r.error();
    co_return std::move(r->items);
}

Task<std::int64_t> ChatService::reindex_search(int batch) {
    std::int64_t total = 0, after = 0;
    for (;;) {
        auto page = co_await db_.run<UnindexedMessages>(after, batch);
        if (!page || page->ids.empty()) break;
        after = page->ids.back();
        WriteSearchTokens::Request write;
        write.ids = page->ids;
        write.tokens.reserve(page->bodies.size());
        for (const auto& body : page->bodies) write.tokens.push_back(search::index_text(body));
        auto written = co_await db_.run<WriteSearchTokens>(std::move(write));
        if (!written) break;
        total += written->written;
        core::logger("chat")->info("reindex progress messages={}", total);
    }
    co_return total;
}

}  // namespace msg::chat
