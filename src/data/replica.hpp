#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/task.hpp"
#include "storage/pg/connection.hpp"

namespace msg::data {

/// Read-your-writes over a streaming replica (POSTGRES_READ_DSN). After a write for a tenant
/// the executor notes where the primary's WAL ends (its commit is at or before that point); a
/// replica-eligible read for the tenant then goes to the replica only once the replica has
/// replayed up to there, and to the primary until then. A lagging or paused replica therefore
/// never hides a write this process made from a read this process serves; tenants this
/// process has not written to keep reading the replica however far behind it is (what may
/// read a replica at all is the operation's choice: data/README.md, "Reads and the replica").
///
/// The replica's replay position is learnt from the replica connection the read would use
/// (one small query, only when the fence is ahead of what was last seen), so a caught-up
/// replica costs nothing per read.
class ReplicaFence {
  public:
    /// After a write for `tenant` ("" for a write of no tenant: it fences every tenant) ran on
    /// `primary`, which is still leased. Never throws: when the position cannot be read the
    /// tenant reads the primary until a later write's position is known.
    core::Task<void> note_write(pg::Connection& primary, std::string_view tenant);

    /// Has `replica` replayed every write noted for `tenant` and for no tenant? A server that
    /// is not a standby (no replay position) answers yes: it is the primary itself. Throws
    /// when the replica cannot be asked.
    core::Task<bool> caught_up(pg::Connection& replica, std::string_view tenant);

    /// Where replica-eligible reads went (msg_pg_replica_reads_total).
    struct Counts {
        std::uint64_t replica = 0;
        std::uint64_t primary_behind = 0;       // the replica had not replayed a noted write
        std::uint64_t primary_unavailable = 0;  // the replica could not be reached
    };
    Counts counts() const;
    void count(bool on_replica, bool unavailable);

    /// The position a read of `tenant` waits for (0: none); for tests.
    std::uint64_t required(std::string_view tenant) const;

  private:
    static constexpr std::uint64_t kUnknown = UINT64_MAX;
    struct Mark {
        std::uint64_t lsn = 0;
        std::uint64_t unknown_since = 0;  // the note generation whose position was not learnt
    };

    mutable std::mutex mutex_;
    std::unordered_map<std::string, Mark> marks_;  // one per tenant written to
    std::uint64_t generation_ = 0;                 // notes started, under mutex_
    std::atomic<std::uint64_t> replayed_{0};       // the furthest replay position seen
    std::atomic<std::uint64_t> replica_reads_{0}, behind_{0}, unavailable_{0};
};

}  // namespace msg::data
