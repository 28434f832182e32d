#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "core/error.hpp"
#include "core/http.hpp"
#include "core/rate_limiter.hpp"
#include "core/task.hpp"
#include "notes/operations.hpp"

namespace msg::data {
class Executor;
}

namespace msg::notes {

/// What notes need of files: may the sender attach this key (an Error if not), and under
/// which stored key is it kept. files::FilesService::attachable in the server.
using AttachmentCheck = std::function<core::Task<core::Result<std::string>>(
    const core::Principal& sender, std::string object_key)>;

/// What notes need of the session module: deliver one payload per user to that user's session
/// sockets (session::SessionEvents::notify_users in the server).
using NoteNotifier =
    std::function<void(const std::string& tenant_id,
                       const std::vector<std::pair<std::int64_t, boost::json::object>>& payloads)>;

/// Notes between users of a tenant: to/cc/bcc recipients, an inbox with read state, and a
/// `note.received` event to each recipient's session sockets.
class NotesService {
  public:
    /// `per_user_per_second`: notes a user may send per second (MESSAGE_RATE_PER_USER) → 429.
    NotesService(data::Executor& db, NoteNotifier notify, const core::Clock& clock,
                 int per_user_per_second, AttachmentCheck attachments)
        : db_(db),
          notify_(std::move(notify)),
          sends_(per_user_per_second, std::chrono::seconds(1), clock),
          attachments_(std::move(attachments)) {}

    struct NewNote {
        std::string title;  // trimmed
        std::string body;
        std::vector<std::int64_t> to, cc, bcc;
        std::vector<NoteFile> files;
    };
    /// 400 `title is required`, `at least one recipient is required`, `unknown recipient`;
    /// every attachment must pass the AttachmentCheck (its error otherwise, nothing stored).
    core::Task<core::Result<Note>> create(const core::Principal& caller, NewNote in);
    core::Task<core::Result<std::vector<InboxItem>>> inbox(const core::Principal& caller, int limit,
                                                           std::optional<std::int64_t> before);
    core::Task<core::Result<GetNote::Response>> get(const core::Principal& caller,
                                                    std::int64_t note_id);
    core::Task<core::Result<void>> mark_read(const core::Principal& caller, std::int64_t note_id);

  private:
    data::Executor& db_;
    NoteNotifier notify_;
    core::RateLimiter sends_;
    AttachmentCheck attachments_;
};

}  // namespace msg::notes
