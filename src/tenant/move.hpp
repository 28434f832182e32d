#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/task.hpp"

namespace msg::pg {
class Connection;
}

namespace msg::tenant {

class SecretBox;

/// `msg_server tenant-move <id>`: a shared tenant that already has data onto its own database,
/// in phases the command runs one after another (each may be run again after a crash):
///   1. begin_move records the target in the registry (`move_dsn`): from then every node
///      refuses the tenant's writes (503 `tenant is being moved; try again later`) as soon as
///      its route cache expires — the command waits that long plus a pool's acquire timeout
///      (a write checked before may still be waiting for a connection), then until every
///      transaction begun before then has ended (writes_begun_before);
///   2. copy_tenant provisions the target and copies every row of the tenant, keeping ids,
///      in key order and in batches, each batch an INSERT … ON CONFLICT DO NOTHING: a copy cut
///      short resumes after the last key the target has; then it compares row counts;
///   3. finish_move points the registry at the target (dedicated) and lifts the refusal;
///   4. purge_moved deletes the tenant's rows from the shared database, once no node can still
///      be reading them there (the command waits a route cache's lifetime first).
/// The target must hold no other tenant's data: ids are kept, and only the source database
/// guaranteed them unique.
enum class MovePhase { copy, purge };

struct MoveStart {
    MovePhase phase = MovePhase::copy;
    std::chrono::seconds since{0};  // how long ago the move was recorded (a resumed one: earlier)
};

/// Phase 1 on the shared database. `dsn` is the target (validated by the caller). Errors: 404
/// `tenant not found`; 409 when the tenant is already dedicated elsewhere or another move is
/// recorded. A tenant already moved to `dsn` answers phase purge (the command resumes there).
core::Task<core::Result<MoveStart>> begin_move(pg::Connection& shared, const SecretBox& box,
                                               const std::string& tenant, const std::string& dsn);

/// Transactions on the shared database that began before `after_start` past the move's
/// start — by then every node refuses the tenant's writes, so what began earlier may be one
/// of them. Counts the other sessions of this database (those pg_stat_activity shows this
/// user: run the command as the nodes' database user).
core::Task<std::int64_t> writes_begun_before(pg::Connection& shared, const std::string& tenant,
                                             std::chrono::seconds after_start);

/// `tenant-move <id> --abort`: the recorded move is dropped, the tenant writable again where
/// it was (rows already copied stay in the target; a later move there resumes over them).
core::Task<core::Result<void>> abort_move(pg::Connection& shared, const std::string& tenant);

struct MovedTable {
    std::string table;
    std::int64_t source = 0;  // the tenant's rows in the shared database
    std::int64_t target = 0;  // and in the target after the copy
    std::int64_t copied = 0;  // by this run
};

/// Phase 2. Fails (409) when the target holds another tenant's data or a count differs
/// (then nothing is switched: run the command again). The outbox's pending rows are copied
/// too; those the shared relay publishes meanwhile are published twice (events are at least
/// once: consumers drop repeats by event id).
core::Task<core::Result<std::vector<MovedTable>>> copy_tenant(pg::Connection& source,
                                                              pg::Connection& target,
                                                              const std::string& tenant,
                                                              int batch_rows);

/// Phase 3: the registry names the target; the move is over.
core::Task<core::Result<void>> finish_move(pg::Connection& shared, const std::string& tenant);

/// Phase 4: the tenant's rows deleted from the shared database (its registry row stays).
/// Refused (409) unless the registry says the tenant is dedicated. Returns the rows deleted.
core::Task<core::Result<std::int64_t>> purge_moved(pg::Connection& shared,
                                                   const std::string& tenant, int batch_rows);

/// The tables a move copies, in copy order (every table with a tenant_id but the registry).
std::vector<std::string> moved_tables();

}  // namespace msg::tenant
