#include "app/commands.hpp"

#include <boost/asio/io_context.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "amqp/url.hpp"
#include "app/run_once.hpp"
#include "auth/jwt.hpp"
#include "bus/inproc_bus.hpp"
#include "chat/service.hpp"
#include "core/blocking.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "data/executor.hpp"
#include "queue/amqp_consumer.hpp"
#include "storage/pg/migrate.hpp"
#include "storage/pg/pool.hpp"
#include "tenant/dedicated.hpp"
#include "tenant/move.hpp"
#include "tenant/router.hpp"

namespace msg::app {

namespace asio = boost::asio;

namespace {

/// Whether a command hashes passwords. OrgService needs a hasher, whose constructor hashes a
/// dummy password at the configured cost (64 MiB of argon2id by default): a command that
/// hashes nothing (presence reset, reindex) gets the cheapest one instead.
enum class Passwords { hashed, unused };

/// What a command runs on: a private io_context and a small pool, with the services it calls
/// built over them on demand.
class CommandContext {
  public:
    CommandContext(const Config& config, std::chrono::milliseconds statement_timeout,
                   Passwords passwords)
        : config_(config),
          passwords_(passwords),
          pool_(io_, options(config, statement_timeout)),
          router_(io_, pool_, config.tenant_secrets_key, clock_,
                  {options(config, statement_timeout), config.tenant_cache_ttl}),
          db_(pool_) {
        // A dedicated tenant's users and messages live in its own database, for commands too.
        db_.route_tenants(router_);
    }

    /// Runs a coroutine on the private io_context to its end and returns its value.
    template <class T>
    T run(core::Task<T> task) {
        return run_once(io_, std::move(task));
    }

    org::OrgService& org() {
        if (!org_) {
            // argon2id's minimum: 1 pass over 8 KiB.
            const auth::PasswordHasher::Cost unused{1, 8 * 1024};
            hasher_.emplace(passwords_ == Passwords::hashed ? config_.auth.password_cost : unused);
            jwt_.emplace(config_.auth.jwt_secret, config_.auth.jwt_ttl, clock_);
            org_.emplace(db_, *jwt_, *hasher_, blocking_, clock_, config_.auth.login);
        }
        return *org_;
    }

    tenant::DatabaseRouter& router() { return router_; }
    pg::Pool& shared_pool() { return pool_; }

    chat::ChatService& chat() {
        // Nothing listens on this bus: a command publishes no realtime frames anyway.
        if (!chat_) chat_.emplace(db_, bus_, clock_, metrics_, chat::ChatLimits{});
        return *chat_;
    }

  private:
    static pg::PoolOptions options(const Config& config, std::chrono::milliseconds timeout) {
        pg::PoolOptions o = config.postgres.pool;
        o.max_size = 2;
        o.connection.statement_timeout = timeout;
        return o;
    }

    const Config& config_;
    const Passwords passwords_;
    asio::io_context io_;
    core::SystemClock clock_;
    pg::Pool pool_;
    tenant::DatabaseRouter router_;
    data::Executor db_;
    core::Metrics metrics_;
    core::BlockingPool blocking_{1};
    bus::InprocBus bus_;
    std::optional<auth::PasswordHasher> hasher_;
    std::optional<auth::JwtCodec> jwt_;
    std::optional<org::OrgService> org_;
    std::optional<chat::ChatService> chat_;
};

core::Task<std::vector<std::string>> migrate_with(asio::io_context* io,
                                                  pg::Connection::Options options) {
    auto conn = co_await pg::Connection::connect(*io, options);
    co_return co_await pg::migrate(*conn, pg::embedded_migrations());
}

/// Brings every dedicated tenant database the registry names to the embedded schema (each
/// was migrated when provisioned; a newer build may carry newer migrations).
core::Task<std::size_t> migrate_dedicated_with(tenant::DatabaseRouter* router) {
    const auto migrations = pg::embedded_migrations();
    auto databases = co_await router->dedicated_databases();
    std::size_t applied = 0;
    for (const auto& db : databases) {
        auto lease = co_await db.pool->acquire();
        const auto names = co_await pg::migrate(*lease, migrations);
        for (const auto& name : names) {
            core::logger("app")->info("migration applied database={} tenant={} name={}", db.key,
                                      db.tenant_id, name);
        }
        applied += names.size();
    }
    co_return applied;
}

std::vector<std::string> migrate(const Config& config) {
    pg::Connection::Options o = config.postgres.pool.connection;
    o.statement_timeout = std::chrono::minutes(10);
    asio::io_context io;
    auto applied = run_once(io, migrate_with(&io, o));
    CommandContext ctx(config, std::chrono::minutes(10), Passwords::unused);
    const auto dedicated = ctx.run(migrate_dedicated_with(&ctx.router()));
    if (dedicated > 0) core::logger("app")->info("dedicated migrations applied={}", dedicated);
    return applied;  // the shared database's
}

core::Task<org::OrgService::SeedAdminOutput> seed_with(org::OrgService* service,
                                                       org::OrgService::SeedAdminInput in) {
    co_return co_await service->seed_admin(std::move(in));
}

core::Task<std::pair<std::int64_t, std::int64_t>> reindex_with(chat::ChatService* chat,
                                                               org::OrgService* org) {
    const std::int64_t messages = co_await chat->reindex_search(500);
    const std::int64_t users = co_await org->reindex_users();
    co_return std::make_pair(messages, users);
}

core::Task<core::Result<tenant::MoveStart>> begin_move_with(pg::Pool* shared,
                                                            const tenant::SecretBox* box,
                                                            std::string id, std::string dsn) {
    auto lease = co_await shared->acquire();
    co_return co_await tenant::begin_move(*lease, *box, id, dsn);
}

core::Task<core::Result<std::vector<tenant::MovedTable>>> copy_with(pg::Pool* shared,
                                                                    pg::Pool* target,
                                                                    std::string id) {
    auto source = co_await shared->acquire();
    auto to = co_await target->acquire();
    co_return co_await tenant::copy_tenant(*source, *to, id, 1000);
}

core::Task<std::int64_t> older_writes_with(pg::Pool* shared, std::string id,
                                           std::chrono::seconds after_start) {
    auto lease = co_await shared->acquire();
    co_return co_await tenant::writes_begun_before(*lease, id, after_start);
}

core::Task<core::Result<void>> abort_with(pg::Pool* shared, std::string id) {
    auto lease = co_await shared->acquire();
    co_return co_await tenant::abort_move(*lease, id);
}

core::Task<core::Result<void>> finish_with(pg::Pool* shared, std::string id) {
    auto lease = co_await shared->acquire();
    co_return co_await tenant::finish_move(*lease, id);
}

core::Task<core::Result<std::int64_t>> purge_with(pg::Pool* shared, std::string id) {
    auto lease = co_await shared->acquire();
    co_return co_await tenant::purge_moved(*lease, id, 5000);
}

/// `<DATA_DIR>/../secrets/admin_password` (var/secrets/ by default), created 0600.
std::string write_admin_password(const Config& c, const std::string& password) {
    auto data = std::filesystem::absolute(c.data_dir).lexically_normal();
    if (data.filename().empty()) data = data.parent_path();  // "var/data/"
    const auto dir = data.parent_path() / "secrets";
    std::filesystem::create_directories(dir);
    const auto path = dir / "admin_password";
    // Never through a link planted there: the password would land (and fchmod act) elsewhere.
    const int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) throw std::runtime_error("cannot write " + path.string());
    ::fchmod(fd, 0600);  // also when the file was there with wider rights
    const std::string text = password + "\n";
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot write " + path.string());
    return path.string();
}

using Args = std::vector<std::string_view>;

const std::vector<Command>& commands() {
    static const std::vector<Command> kCommands = {
        {"migrate", [](const Config& c, const Args&) { return run_migrate(c); }},
        {"seed-admin", [](const Config& c, const Args&) { return run_seed_admin(c); }},
        {"reindex", [](const Config& c, const Args&) { return run_reindex(c); }},
        {"dlq", run_dlq, 3},
        {"tenant-move", run_tenant_move, 2},
    };
    return kCommands;
}

}  // namespace

const Command* find_command(std::string_view name) {
    for (const auto& c : commands()) {
        if (c.name == name) return &c;
    }
    return nullptr;
}

std::vector<std::string_view> command_names() {
    std::vector<std::string_view> names;
    for (const auto& c : commands()) names.push_back(c.name);
    return names;
}

bool require_dsn(const Config& config) {
    if (config.postgres.dsn().empty()) {
        std::fprintf(stderr, "POSTGRES_DSN must be set (scripts/run.sh starts a local cluster)\n");
        return false;
    }
    return true;
}

int run_migrate(const Config& config) {
    if (!require_dsn(config)) return 2;
    const auto applied = migrate(config);
    auto log = core::logger("app");
    for (const auto& name : applied) log->info("migration applied name={}", name);
    log->info("migrations done applied={}", applied.size());
    return 0;
}

void prepare_single_node(const Config& config) {
    auto log = core::logger("app");
    const auto applied = migrate(config);
    log->info("migrations checked applied_now={}", applied.size());
    CommandContext ctx(config, config.postgres.pool.connection.statement_timeout,
                       Passwords::unused);
    if (!config.redis_addr.empty()) {
        // Other nodes may hold sockets: the presence directory in Redis releases the users of
        // nodes that stopped, not a reset of everyone at this node's start.
        return;
    }
    const auto reset = ctx.run(ctx.org().reset_auto_presence());
    log->info("presence reset stale_online={}", reset);
}

int run_seed_admin(const Config& config) {
    if (!require_dsn(config)) return 2;
    const AdminConfig& admin = config.admin;
    CommandContext ctx(config, config.postgres.pool.connection.statement_timeout,
                       Passwords::hashed);
    org::OrgService::SeedAdminInput in{admin.tenant_id, admin.email, admin.name, admin.title,
                                       admin.password};
    auto out = ctx.run(seed_with(&ctx.org(), std::move(in)));
    core::logger("app")->info("admin ready tenant={} email={} user_id={} created={}",
                              admin.tenant_id, admin.email, out.user_id, out.created);
    if (out.generated_password) {
        // Shown once, to a terminal only (never the log): output that is piped or redirected
        // may land in log storage, so then it goes to a file only its owner can read.
        if (::isatty(STDOUT_FILENO) == 1) {
            std::printf(
                "\n  Admin login: tenant_id=%s email=%s password=%s\n"
                "  (generated once; set ADMIN_PASSWORD and run seed-admin again to change it)\n\n",
                admin.tenant_id.c_str(), admin.email.c_str(), out.generated_password->c_str());
        } else {
            const auto path = write_admin_password(config, *out.generated_password);
            std::printf(
                "\n  Admin login: tenant_id=%s email=%s, generated password in %s (mode 0600)\n\n",
                admin.tenant_id.c_str(), admin.email.c_str(), path.c_str());
        }
        std::fflush(stdout);
    }
    return 0;
}

int run_reindex(const Config& config) {
    if (!require_dsn(config)) return 2;
    CommandContext ctx(config, std::chrono::minutes(5), Passwords::unused);
    const auto [messages, users] = ctx.run(reindex_with(&ctx.chat(), &ctx.org()));
    core::logger("app")->info("reindex done messages={} users={}", messages, users);
    return 0;
}

int run_dlq(const Config& config, const std::vector<std::string_view>& args) {
    const auto usage = [] {
        std::fprintf(stderr, "usage: msg_server dlq list [LIMIT] | dlq replay [GROUP] [LIMIT]\n");
        return 2;
    };
    if (args.empty() || (args[0] != "list" && args[0] != "replay")) return usage();
    if (config.lavinmq_url.empty()) {
        std::fprintf(stderr, "msg_server dlq: LAVINMQ_URL is not set\n");
        return 2;
    }
    const auto url = amqp::parse_url(config.lavinmq_url).value();  // load_config checked it
    const auto limit_of = [](std::string_view text, std::size_t& out) {
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
        return ec == std::errc() && ptr == text.data() + text.size() && out > 0;
    };
    std::size_t limit = 1'000'000;
    if (args[0] == "list") {
        if (args.size() > 2 || (args.size() == 2 && !limit_of(args[1], limit))) return usage();
        const auto letters = queue::list_dead_letters(url, config.amqp_queue_prefix, limit);
        for (const auto& d : letters) {
            std::printf("%s\t%s\tgroup=%s\tattempts=%d\trouting_key=%s\treason=%s\n",
                        d.event_id.c_str(), d.type.c_str(), d.group.c_str(), d.attempts,
                        d.routing_key.c_str(), d.reason.c_str());
        }
        std::printf("%zu dead letter(s)\n", letters.size());
        return 0;
    }
    std::string group;
    std::size_t n = 0;
    if (args.size() == 2 && limit_of(args[1], n)) {
        limit = n;  // `dlq replay 50`: a limit, every group
    } else if (args.size() >= 2) {
        group = std::string(args[1]);
    }
    if (args.size() == 3 && !limit_of(args[2], limit)) return usage();
    const std::size_t moved =
        queue::replay_dead_letters(url, config.amqp_queue_prefix, group, limit);
    std::printf("%zu dead letter(s) replayed\n", moved);
    return 0;
}

int run_tenant_move(const Config& config, const std::vector<std::string_view>& args) {
    if (args.empty() || args.size() > 2 || (args.size() == 2 && args[1] != "--abort")) {
        std::fprintf(stderr,
                     "usage: TENANT_MOVE_DSN=<dsn> msg_server tenant-move TENANT_ID [--abort]\n");
        return 2;
    }
    if (!require_dsn(config)) return 2;
    const std::string id(args[0]);
    const auto failed = [&id](const core::Error& e) {
        std::fprintf(stderr, "tenant-move %s: %s\n", id.c_str(), e.message.c_str());
        return 1;
    };
    if (args.size() == 2) {
        CommandContext ctx(config, std::chrono::minutes(1), Passwords::unused);
        auto aborted = ctx.run(abort_with(&ctx.shared_pool(), id));
        if (!aborted) return failed(aborted.error());
        std::printf(
            "tenant %s: move aborted, writable where it was (nodes see it within "
            "TENANT_CACHE_TTL_SECONDS)\n",
            id.c_str());
        return 0;
    }
    const std::string& dsn = config.tenant_move_dsn;
    tenant::TenantPatch patch;
    patch.dedicated_dsn = dsn;
    if (dsn.empty()) {
        std::fprintf(stderr, "tenant-move: TENANT_MOVE_DSN must name the target database\n");
        return 2;
    }
    if (auto bad = tenant::validate_dedicated(patch)) {
        std::fprintf(stderr, "tenant-move: %s\n", bad->message.c_str());
        return 2;
    }
    const tenant::SecretBox box(config.tenant_secrets_key);
    if (!box.configured()) {
        std::fprintf(stderr,
                     "tenant-move: TENANT_SECRETS_KEY must be set (the DSN is stored "
                     "encrypted with it)\n");
        return 2;
    }
    auto log = core::logger("app");
    CommandContext ctx(config, std::chrono::minutes(10), Passwords::unused);
    pg::Pool& shared = ctx.shared_pool();
    auto start = ctx.run(begin_move_with(&shared, &box, id, dsn));
    if (!start) return failed(start.error());
    // Every node must have seen the tenant read-only (its cached route expired; a write
    // checked just before may still wait for a connection) and ended the writes it had begun
    // before anything is read. The nodes' TENANT_CACHE_TTL_SECONDS and PG_ACQUIRE_TIMEOUT_MS
    // are assumed to be this command's.
    const auto cache = std::chrono::duration_cast<std::chrono::seconds>(config.tenant_cache_ttl) +
                       std::chrono::seconds(1);
    if (start->phase == tenant::MovePhase::copy) {
        const auto settle =
            cache +
            std::chrono::duration_cast<std::chrono::seconds>(config.postgres.pool.acquire_timeout) +
            std::chrono::seconds(1);
        if (start->since < settle) {
            log->info("tenant-move tenant={} read-only; waiting {}s for every node", id,
                      (settle - start->since).count());
            std::this_thread::sleep_for(settle - start->since);
        }
        for (int waited = 0;; ++waited) {
            const auto open = ctx.run(older_writes_with(&shared, id, settle));
            if (open == 0) break;
            if (waited == 0) {
                log->info("tenant-move tenant={} waiting for {} transaction(s) begun before", id,
                          open);
            }
            if (waited >= 600) {  // 5 minutes
                std::fprintf(stderr,
                             "tenant-move %s: transactions begun before every node saw the move "
                             "are still open; run again (the tenant stays read-only) or --abort\n",
                             id.c_str());
                return 1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
        auto target = ctx.router().pool_at(box.seal(dsn));
        auto copied = ctx.run(copy_with(&shared, target.get(), id));
        if (!copied) return failed(copied.error());
        for (const auto& t : *copied) {
            std::printf("%-20s source=%lld target=%lld copied=%lld\n", t.table.c_str(),
                        static_cast<long long>(t.source), static_cast<long long>(t.target),
                        static_cast<long long>(t.copied));
        }
        auto finished = ctx.run(finish_with(&shared, id));
        if (!finished) return failed(finished.error());
        log->info("tenant-move tenant={} switched to its database", id);
    }
    // A node may still read the shared copy until its cached route expires.
    log->info("tenant-move tenant={} waiting {}s before the shared rows are removed", id,
              cache.count());
    std::this_thread::sleep_for(cache);
    auto purged = ctx.run(purge_with(&shared, id));
    if (!purged) return failed(purged.error());
    std::printf("tenant %s moved; %lld rows removed from the shared database\n", id.c_str(),
                static_cast<long long>(*purged));
    return 0;
}

}  // namespace msg::app
