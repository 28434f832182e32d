#pragma once

#include <string_view>
#include <vector>

#include "app/config.hpp"

namespace msg::app {

/// A one-shot command: `msg_server <name>` runs it and exits with its code. Commands call
/// services (org, chat) over a database of their own; only `migrate` works on the bare
/// connection, which is what migrations are applied on.
struct Command {
    std::string_view name;
    int (*run)(const Config& config, const std::vector<std::string_view>& args);
    std::size_t max_args = 0;  // words after the name
};

/// nullptr for a name that is not a command.
const Command* find_command(std::string_view name);
std::vector<std::string_view> command_names();

/// `migrate`: applies pending migrations and exits.
int run_migrate(const Config& config);
/// `seed-admin`: creates the tenant and a root org unit if missing, and creates or updates the
/// admin user; a generated password goes to the terminal once (or var/secrets/, mode 0600).
int run_seed_admin(const Config& config);
/// `reindex`: search tokens of messages (migration 004) and users (005) written before
/// search existed, in batches; resumable.
int run_reindex(const Config& config);
/// `dlq list [LIMIT]` | `dlq replay [GROUP] [LIMIT]`: the broker's dead-letter queue
/// (LAVINMQ_URL): list leaves the letters in place; replay moves them (of GROUP, or all) back
/// to their consumer group's queue with the attempts reset.
int run_dlq(const Config& config, const std::vector<std::string_view>& args);
/// `tenant-move <id>`: copies a shared tenant with data to the database TENANT_MOVE_DSN names
/// and makes it dedicated there (tenant/move.hpp); resumable: run it again after a failure.
int run_tenant_move(const Config& config, const std::vector<std::string_view>& args);

/// The single-node role's start (Worker::migrate_on_start): migrations, then the automatic
/// `online` a crash left behind is reset (no socket exists yet). Throws on failure.
void prepare_single_node(const Config& config);

/// POSTGRES_DSN is set (else a message on stderr and false).
bool require_dsn(const Config& config);

}  // namespace msg::app
