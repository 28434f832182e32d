#include "data/replica.hpp"

#include <algorithm>
#include <exception>

namespace msg::data {

namespace {
// pg_lsn as a number: the byte position in the WAL. The insert position (not the write
// position) includes a commit record that is not flushed yet (synchronous_commit=off).
constexpr std::string_view kPrimaryPosition = "SELECT (pg_current_wal_insert_lsn() - '0/0')::int8";
constexpr std::string_view kReplayPosition = "SELECT (pg_last_wal_replay_lsn() - '0/0')::int8";
}  // namespace

core::Task<void> ReplicaFence::note_write(pg::Connection& primary, std::string_view tenant) {
    std::uint64_t started = 0;
    {
        std::lock_guard lock(mutex_);
        started = ++generation_;
    }
    std::uint64_t lsn = kUnknown;
    try {
        auto rows = co_await primary.query(kPrimaryPosition);
        lsn = static_cast<std::uint64_t>(rows.int64(0, 0));
    } catch (const std::exception&) {
        lsn = kUnknown;  // the connection broke after the write: fence until a later note
    }
    std::lock_guard lock(mutex_);
    Mark& m = marks_[std::string(tenant)];
    if (lsn == kUnknown) {
        m.lsn = kUnknown;
        m.unknown_since = started;
    } else if (m.lsn != kUnknown) {
        m.lsn = std::max(m.lsn, lsn);
    } else if (started > m.unknown_since) {
        // Read after the write whose position was lost ended: at or past its commit.
        m.lsn = lsn;
    }
}

// For `tenant` "" (a read of no one tenant): every noted write.
std::uint64_t ReplicaFence::required(std::string_view tenant) const {
    std::lock_guard lock(mutex_);
    std::uint64_t need = 0;
    if (tenant.empty()) {
        // A read of no one tenant (the registry's list) sees every tenant's writes.
        for (const auto& [key, mark] : marks_) need = std::max(need, mark.lsn);
        return need;
    }
    for (const std::string_view key : {tenant, std::string_view{}}) {
        if (auto it = marks_.find(std::string(key)); it != marks_.end()) {
            need = std::max(need, it->second.lsn);
        }
    }
    return need;
}

core::Task<bool> ReplicaFence::caught_up(pg::Connection& replica, std::string_view tenant) {
    const std::uint64_t need = required(tenant);
    if (need == kUnknown) co_return false;
    if (need == 0 || replayed_.load() >= need) co_return true;
    auto rows = co_await replica.query(kReplayPosition);
    if (rows.is_null(0, 0)) co_return true;  // not a standby
    const auto seen = static_cast<std::uint64_t>(rows.int64(0, 0));
    std::uint64_t prev = replayed_.load();
    while (prev < seen && !replayed_.compare_exchange_weak(prev, seen)) {
    }
    co_return seen >= need;
}

void ReplicaFence::count(bool on_replica, bool unavailable) {
    if (on_replica) {
        ++replica_reads_;
    } else if (unavailable) {
        ++unavailable_;
    } else {
        ++behind_;
    }
}

ReplicaFence::Counts ReplicaFence::counts() const {
    return {replica_reads_.load(), behind_.load(), unavailable_.load()};
}

}  // namespace msg::data
