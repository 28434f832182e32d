#include "notes/service.hpp"

#include <boost/json/object.hpp>

#include "data/executor.hpp"

namespace msg::notes {

namespace json = boost::json;
using core::Result;
using core::Task;

Task<Result<Note>> NotesService::create(const core::Principal& caller, NewNote in) {
    if (in.title.empty()) co_return core::invalid("title is required");
    auto recipients = merge_recipients(in.to, in.cc, in.bcc);
    if (recipients.empty()) co_return core::invalid("at least one recipient is required");
    if (int wait = sends_.acquire(caller.tenant_id + ":" + std::to_string(caller.user_id))) {
        co_return core::Error{core::ErrorCode::too_many_requests, "too many requests", wait};
    }
    for (auto& file : in.files) {
        auto stored = co_await attachments_(caller, file.object_key);
        if (!stored) co_return stored.error();
        file.object_key = std::move(*stored);
    }
    auto note = co_await db_.run<CreateNote>(caller.tenant_id, caller.user_id, std::move(in.title),
                                             std::move(in.body), recipients, std::move(in.files));
    if (!note) co_return note.error();

    // Each recipient gets its own view: its own recipient_type, no recipient list.
    std::vector<std::pair<std::int64_t, json::object>> events;
    events.reserve(recipients.size());
    for (const auto& r : recipients) {
        events.emplace_back(r.user_id, json::object{{"type", "note.received"},
                                                    {"note_id", note->note_id},
                                                    {"tenant_id", note->tenant_id},
                                                    {"sender_user_id", note->sender_user_id},
                                                    {"recipient_type", r.type},
                                                    {"title", note->title},
                                                    {"body", note->body},
                                                    {"files", to_json(note->files)},
                                                    {"created_at", note->created_at}});
    }
    notify_(caller.tenant_id, events);
    co_return std::move(*note);
}

Task<Result<std::vector<InboxItem>>> NotesService::inbox(const core::Principal& caller, int limit,
                                                         std::optional<std::int64_t> before) {
    auto page = co_await db_.run<ListInbox>(caller.tenant_id, caller.user_id, limit, before);
    if (!page) co_return page.error();
    co_return std::move(page->items);
}

Task<Result<GetNote::Response>> NotesService::get(const core::Principal& caller,
                                                  std::int64_t note_id) {
    co_return co_await db_.run<GetNote>(caller.tenant_id, caller.user_id, note_id);
}

Task<Result<void>> NotesService::mark_read(const core::Principal& caller, std::int64_t note_id) {
    auto r = co_await db_.run<MarkNoteRead>(caller.tenant_id, caller.user_id, note_id);
    if (!r) co_return r.error();
    co_return Result<void>{};
}

}  // namespace msg::notes
