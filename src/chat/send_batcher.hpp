#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "chat/operations.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

namespace msg::data {
class Executor;
}

namespace msg::chat {

/// Group commit for sends. Sends wait in one of `lanes` queues (a room always maps to the
/// same lane, so a room's sends keep their order); each lane writes one batch at a time with
/// SendMessages — one statement, one commit — and acks every send in it after that commit.
/// While a batch is being written the next one gathers, so the batch size follows the load
/// with no timer: an idle lane writes a lone send at once. No extra coroutine runs: the first
/// send of a batch writes it, then hands the lane to the first send still waiting.
class SendBatcher {
  public:
    struct Options {
        std::size_t lanes = 8;        // batches in flight at once, each on a pool connection
        std::size_t max_batch = 128;  // sends per statement
    };
    struct Stats {
        std::uint64_t batches = 0;
        std::uint64_t sends = 0;
    };

    SendBatcher(data::Executor& db, Options options);
    ~SendBatcher();
    SendBatcher(const SendBatcher&) = delete;
    SendBatcher& operator=(const SendBatcher&) = delete;

    /// SendMessage's outcome for this one send (403 `room access denied` for a non-member);
    /// throws what the batch's statement threw (core::UnavailableException…). `request` is
    /// moved from.
    core::Task<core::Result<SendMessage::Response>> send(SendMessage::Request& request);

    Stats stats() const { return {batches_.load(), sends_.load()}; }

  private:
    struct Pending;
    struct Lane;
    core::Task<void> write_batch(Lane& lane);
    Lane& lane_of(const SendMessage::Request& request) const;

    data::Executor& db_;
    Options options_;
    std::vector<std::unique_ptr<Lane>> lanes_;
    std::atomic<std::uint64_t> batches_{0}, sends_{0};
};

}  // namespace msg::chat
