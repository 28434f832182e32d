#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chat/model.hpp"
#include "chat/operations.hpp"
#include "chat/room_event.hpp"
#include "chat/send_batcher.hpp"
#include "core/error.hpp"
#include "core/http.hpp"
#include "core/rate_limiter.hpp"
#include "core/task.hpp"

namespace msg::core {
class Clock;
class Metrics;
class Counter;
}  // namespace msg::core
namespace msg::data {
class Executor;
}
namespace msg::bus {
class Bus;
}

namespace msg::chat {

/// The vector hook of `rank=relevance` (vectorman, in process or over HTTP): similarity of
/// each given message to the query, best first; messages it does not know are left out. It
/// may throw core::UnavailableException; search then ranks by text alone.
class RelevanceScorer {
  public:
    virtual ~RelevanceScorer() = default;
    virtual core::Task<std::vector<std::pair<std::int64_t, double>>> similarity(
        const std::string& tenant_id, const std::string& query,
        const std::vector<std::int64_t>& message_ids) = 0;
};

struct ChatLimits {
    int sends_per_user_per_second = 50;
    SendBatcher::Options batching;  // group commit of sends
};

/// Rooms, messages and read state. Every room-scoped call checks the caller's membership
/// first (403 `room access denied`, also for rooms that do not exist). Every committed
/// message and read-watermark move is published on the room's bus channel, whatever the
/// transport it came from.
struct NewMessage {
    std::string body;
    Attachments attachments;
    std::optional<std::string> client_msg_id;
};

struct MessagePage {
    std::vector<Message> items;
    std::optional<std::string> next_cursor;
};

/// One room of a socket's `resume`.
struct ResumedRoom {
    std::int64_t room_id = 0;
    bool denied = false;  // not (or no longer) a member: nothing read
    std::vector<Message> messages;
    std::int64_t last_seq = 0;  // of the last message, else the seq resumed from
    bool more = false;          // not read to its end: resume again from last_seq
};

/// What a chat socket (/ws, realtime.hpp) asks of the chat service: the seam that lets the
/// socket protocol run without PostgreSQL (the frame fuzzer, fuzz/). ChatService implements
/// it; the meaning of each call is documented there.
class SocketBackend {
  public:
    virtual ~SocketBackend() = default;
    virtual core::Task<core::Result<SendMessage::Response>> send(const core::Principal& caller,
                                                                 std::int64_t room_id,
                                                                 NewMessage in) = 0;
    virtual core::Task<core::Result<std::vector<ResumedRoom>>> resume(
        const core::Principal& caller, std::vector<std::pair<std::int64_t, std::int64_t>> rooms,
        int per_room, int max_rows) = 0;
    virtual core::Task<core::Result<MarkRead::Response>> mark_read(const core::Principal& caller,
                                                                   std::int64_t room_id,
                                                                   std::int64_t message_id) = 0;
    virtual core::Task<core::Result<std::vector<MemberRoom>>> member_rooms(
        const core::Principal& caller, std::vector<std::int64_t> room_ids) = 0;
    virtual void publish(const core::Principal& caller, const RoomEvent& event) = 0;
};

class ChatService final : public SocketBackend {
  public:
    ChatService(data::Executor& db, bus::Bus& bus, const core::Clock& clock, core::Metrics& metrics,
                ChatLimits limits);

    struct NewRoom {
        std::string name;
        std::string room_type;
        std::vector<std::int64_t> member_ids;
    };
    core::Task<core::Result<CreateRoom::Response>> create_room(const core::Principal& caller,
                                                               NewRoom in);

    struct RoomPage {
        std::vector<RoomSummary> items;
        std::optional<std::string> next_cursor;
    };
    core::Task<core::Result<RoomPage>> list_rooms(const core::Principal& caller, int limit,
                                                  std::optional<std::string> cursor);
    core::Task<core::Result<void>> add_member(const core::Principal& caller, std::int64_t room_id,
                                              std::int64_t user_id);
    /// Leave (user_id = the caller) or remove (the room's creator, a tenant admin): see
    /// RemoveMember. Then `member.removed` goes to the room; the hubs of every node take the
    /// user's sockets out of it at once (a `/ws?room_id=` socket is closed with 4403).
    core::Task<core::Result<void>> remove_member(const core::Principal& caller,
                                                 std::int64_t room_id, std::int64_t user_id);

    using NewMessage = chat::NewMessage;
    using MessagePage = chat::MessagePage;
    core::Task<core::Result<SendMessage::Response>> send(const core::Principal& caller,
                                                         std::int64_t room_id,
                                                         NewMessage in) override;
    core::Task<core::Result<MessagePage>> list_messages(const core::Principal& caller,
                                                        std::int64_t room_id, int limit,
                                                        std::optional<std::string> cursor,
                                                        std::optional<std::int64_t> after_seq);
    /// What a socket missed: for each (room, last seq seen), distinct rooms, the messages after
    /// it — at most `per_room` a room and `max_rows` rows in all, one statement that also
    /// checks membership (ResumeRooms); a room cut short says `more`.
    core::Task<core::Result<std::vector<ResumedRoom>>> resume(
        const core::Principal& caller, std::vector<std::pair<std::int64_t, std::int64_t>> rooms,
        int per_room, int max_rows) override;

    /// Korean-aware search (ARCHITECTURE §9) over the caller's rooms, newest first: every
    /// term of `q` must occur in the message. 400 `q is required` / `q is too long`; with
    /// room_id, 403 unless a member. `by_relevance` reorders the first page (no cursor) by
    /// fusing text rank and vector similarity (relevance_order); the cursor is unchanged.
    core::Task<core::Result<MessagePage>> search(const core::Principal& caller, std::string q,
                                                 std::optional<std::int64_t> room_id, int limit,
                                                 std::optional<std::string> cursor,
                                                 bool by_relevance = false);

    /// Set once at start-up (nullptr: text rank only).
    void set_relevance_scorer(RelevanceScorer* scorer) { scorer_ = scorer; }

    core::Task<core::Result<std::int64_t>> unread_count(const core::Principal& caller,
                                                        std::int64_t room_id);
    core::Task<core::Result<std::vector<RoomUnread>>> unread_counts(const core::Principal& caller);
    core::Task<core::Result<MarkRead::Response>> mark_read(const core::Principal& caller,
                                                           std::int64_t room_id,
                                                           std::int64_t message_id) override;
    core::Task<core::Result<std::optional<std::int64_t>>> last_read(const core::Principal& caller,
                                                                    std::int64_t room_id);
    core::Task<core::Result<std::vector<Reader>>> readers(const core::Principal& caller,
                                                          std::int64_t room_id,
                                                          std::int64_t message_id);

    /// Publishes a room event (room_event.hpp: typing, signalling) on the room's channel; the
    /// caller must already be known to be a member.
    void publish(const core::Principal& caller, const RoomEvent& event) override;

    /// `reindex`: search tokens of messages written before search existed (migration 004), in
    /// batches of `batch`; resumable (only rows without tokens are read). Returns the count.
    core::Task<std::int64_t> reindex_search(int batch);

    /// The rooms of `room_ids` the caller is a member of, in one query.
    core::Task<core::Result<std::vector<MemberRoom>>> member_rooms(
        const core::Principal& caller, std::vector<std::int64_t> room_ids) override;
    /// 403 `room access denied` unless the caller is a member; else the room type.
    core::Task<core::Result<std::string>> require_member(const core::Principal& caller,
                                                         std::int64_t room_id);

  private:
    core::Task<void> rerank(const std::string& tenant_id, const std::string& query,
                            const std::vector<std::string>& terms, std::vector<Message>& items);

    data::Executor& db_;
    bus::Bus& bus_;
    core::RateLimiter sends_;
    SendBatcher batcher_;
    core::Counter& persisted_;
    RelevanceScorer* scorer_ = nullptr;
};

}  // namespace msg::chat
