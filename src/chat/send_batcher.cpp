#include "chat/send_batcher.hpp"

#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>

#include "core/event.hpp"
#include "data/executor.hpp"

namespace msg::chat {

struct SendBatcher::Pending {
    SendMessage::Request request;
    core::Event woken;  // set once: this send leads the next batch, or its batch is written
    // Under the lane mutex until `woken` is set, then the waiter's alone.
    bool lead = false;
    std::optional<SendMessage::Response> result;  // empty after a write: not a member
    std::exception_ptr error;
};

struct SendBatcher::Lane {
    std::mutex mutex;
    std::deque<std::shared_ptr<Pending>> queue;
    bool busy = false;  // a batch is being written; its writer hands the lane on
};

SendBatcher::SendBatcher(data::Executor& db, Options options) : db_(db), options_(options) {
    if (options_.lanes == 0) options_.lanes = 1;
    if (options_.max_batch == 0) options_.max_batch = 1;
    for (std::size_t i = 0; i < options_.lanes; ++i) lanes_.push_back(std::make_unique<Lane>());
}

SendBatcher::~SendBatcher() = default;

SendBatcher::Lane& SendBatcher::lane_of(const SendMessage::Request& request) const {
    const std::size_t h = std::hash<std::string>{}(request.tenant_id) * 31 +
                          static_cast<std::size_t>(request.room_id);
    return *lanes_[h % lanes_.size()];
}

core::Task<core::Result<SendMessage::Response>> SendBatcher::send(SendMessage::Request& request) {
    auto self = std::make_shared<Pending>();
    self->request = std::move(request);
    Lane& lane = lane_of(self->request);
    bool leader = false;
    {
        std::lock_guard lock(lane.mutex);
        lane.queue.push_back(self);
        leader = !lane.busy;
        lane.busy = true;
    }
    if (!leader) {
        co_await self->woken.wait();
        std::lock_guard lock(lane.mutex);
        leader = self->lead;
    }
    if (leader) co_await write_batch(lane);  // self is the queue's front: its batch holds it
    if (self->error) std::rethrow_exception(self->error);
    if (!self->result) co_return core::forbidden("room access denied");
    co_return std::move(*self->result);
}

core::Task<void> SendBatcher::write_batch(Lane& lane) {
    std::vector<std::shared_ptr<Pending>> batch;
    SendMessages::Request request;
    {
        // The front and the sends of its tenant behind it (a batch is one tenant's: one
        // database); other tenants' sends keep their places for the next batch.
        std::lock_guard lock(lane.mutex);
        request.tenant_id = lane.queue.front()->request.tenant_id;
        for (auto it = lane.queue.begin();
             it != lane.queue.end() && batch.size() < options_.max_batch;) {
            if ((*it)->request.tenant_id == request.tenant_id) {
                batch.push_back(std::move(*it));
                it = lane.queue.erase(it);
            } else {
                ++it;
            }
        }
    }
    request.sends.reserve(batch.size());
    for (auto& p : batch) request.sends.push_back(std::move(p->request));

    std::exception_ptr error;
    std::optional<SendMessages::Response> response;
    try {
        bool resent = false;
        auto r = co_await db_.run_noting_resend<SendMessages>(resent, std::move(request));
        // An error of the whole batch (the tenant is being moved): every send gets it.
        if (!r) throw core::ErrorException(r.error());
        response = std::move(*r);
        if (resent) {
            // Sent again after a dbman attempt that may have committed: a duplicate here is
            // most likely that attempt's, i.e. this call's own message — the room must get it
            // (a rare genuine repeat is published twice; clients keep messages by id).
            for (auto& one : response->results) {
                if (one) one->duplicate = false;
            }
        }
    } catch (...) {
        error = std::current_exception();
    }
    ++batches_;
    sends_ += batch.size();

    std::shared_ptr<Pending> next;
    {
        std::lock_guard lock(lane.mutex);
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (error) {
                batch[i]->error = error;
            } else {
                batch[i]->result = std::move(response->results[i]);
            }
        }
        if (lane.queue.empty()) {
            lane.busy = false;
        } else {
            next = lane.queue.front();
            next->lead = true;
        }
    }
    for (std::size_t i = 1; i < batch.size(); ++i) batch[i]->woken.set();  // [0]: the writer
    if (next) next->woken.set();
}

}  // namespace msg::chat
