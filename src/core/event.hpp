#pragma once

#include <chrono>
#include <memory>

#include "core/task.hpp"

namespace msg::core {

/// A one-shot signal between coroutines on any threads: set() wakes the waiter, or, when
/// nobody waits yet, makes the next wait return at once — a set() never gets lost between a
/// waiter publishing itself and suspending (the race a bare timer.cancel() has). One waiter
/// at a time. Copies share the one signal.
class Event {
  public:
    Event();

    /// Wakes the waiter on its own executor. Idempotent; safe from any thread.
    void set() const;
    bool is_set() const;

    /// Returns once set() was called (at once if it was already).
    Task<void> wait() const;
    /// True once set(), false when `timeout` passed first.
    Task<bool> wait_for(std::chrono::milliseconds timeout) const;

  private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace msg::core
