#pragma once

#include <map>
#include <mutex>
#include <unordered_map>

#include "bus/bus.hpp"

namespace msg::bus {

/// Single-node bus: publish calls the channel's handlers in the publishing thread, outside the
/// lock, on a copy of the subscriber list.
class InprocBus final : public Bus {
  public:
    using Bus::subscribe;
    void publish(const std::string& channel, Payload payload) override;
    /// One process loses nothing: `on_gap` never runs.
    Subscription subscribe(const std::string& channel, Handler handler, GapHandler on_gap) override;

    std::size_t channels() const;

  private:
    struct State {
        std::mutex mutex;
        std::uint64_t next_id = 0;
        std::unordered_map<std::string, std::map<std::uint64_t, std::shared_ptr<Handler>>> channels;
    };
    std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace msg::bus
