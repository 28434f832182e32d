#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "app/backends.hpp"
#include "app/config.hpp"
#include "app/roles.hpp"
#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "chat/realtime.hpp"
#include "chat/service.hpp"
#include "core/blocking.hpp"
#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "core/task_group.hpp"
#include "core/timers.hpp"
#include "files/service.hpp"
#include "notes/service.hpp"
#include "org/credentials.hpp"
#include "org/service.hpp"
#include "queue/outbox_relay.hpp"
#include "queue/processed_events.hpp"
#include "session/events.hpp"
#include "session/hub.hpp"
#include "session/presence.hpp"
#include "session/service.hpp"
#include "tenant/service.hpp"
#include "tenant/stores.hpp"
#include "transport/pipeline.hpp"
#include "transport/router.hpp"

namespace boost::asio {
class io_context;
}
namespace msg::transport {
class HttpServer;
}

namespace msg::app {

/// The broker consumer groups a node runs, added once each while the workers start; the
/// metrics thread reads the first `count` (published after each is in place).
struct ConsumerGroups {
    static constexpr std::size_t kMax = 4;
    std::array<std::unique_ptr<queue::AmqpConsumer>, kMax> groups;
    std::atomic<std::size_t> count{0};

    void add(std::unique_ptr<queue::AmqpConsumer> c);
    /// (group name, `(group->*read)()`) of each group (metrics thread).
    core::Metrics::LabelledValues each(std::uint64_t (queue::AmqpConsumer::*read)() const) const;
};

class Vectors;

/// Everything one serving process is made of, built from its Role row: the backends the row
/// names (backends.hpp factories), then, for each route group, the services behind it. A
/// service is constructed the first time a group (or another service) asks for it, so a role
/// that serves no chat never constructs chat.
class Node {
  public:
    Node(const Config& config, const Role& role, boost::asio::io_context& io);
    ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    /// Brings up the role's backends (database pools, bus, blob bucket, vector index); the
    /// services follow in routes() and ws_routes(), as their groups ask for them. False
    /// (logged) when a backend the role cannot serve without does not answer: exit 2.
    bool build();

    /// /health, /health/live, /health/ready, /metrics and the role's route groups.
    std::vector<core::Route> routes();
    std::vector<core::WsRoute> ws_routes();
    std::vector<core::StreamRoute> stream_routes();
    /// The middleware chain over `router`: JWT, internal token, credentials, CORS.
    std::unique_ptr<transport::Pipeline> pipeline(const transport::Router& router);
    /// Connection and socket gauges of the server this node serves on.
    void watch(const transport::HttpServer& server);

    /// The role's workers (outbox relay, vector flush, presence beats), on the io_context, in
    /// the node's task group.
    void start_workers();
    /// Asks every worker to end (SIGTERM); on the io_context's thread.
    void stop_workers();
    /// Background coroutines still running (the shutdown drain waits for 0).
    std::size_t background() const { return tasks_.running(); }
    /// After the I/O threads stopped, before their contexts are shut down: the final vector
    /// flush, then the blocking pools are stopped and joined.
    void finish();

    core::Metrics& metrics() { return metrics_; }

  private:
    // Each getter builds its service on first use (with what it depends on). Only build(),
    // routes() and ws_routes() call them, on the starting thread: they are not thread-safe.
    org::OrgService& org();
    tenant::TenantService& tenant();
    session::SessionEvents& session_events();
    chat::ChatService& chat();
    files::FilesService* files();  // nullptr when the role has no blob store
    session::SessionService& session();
    notes::NotesService& notes();
    session::Presence& presence();
    chat::RoomHub& room_hub();
    session::SessionHub& session_hub();

    const Config& config_;
    const Role role_;
    boost::asio::io_context& io_;
    core::SystemClock clock_;
    core::AsioTimers timers_;
    core::TaskGroup tasks_;  // the node's background coroutines
    core::Metrics metrics_;
    core::BlockingPool blocking_;
    // Password hashing has a pool of its own, bounded: a login flood is refused fast (503)
    // instead of stalling file I/O and thumbnails on the shared blocking pool.
    core::BlockingPool hashing_;
    auth::JwtCodec jwt_;

    // Backends, in the order build() brings them up.
    std::unique_ptr<Database> db_;
    std::unique_ptr<bus::Bus> bus_;
    bus::Subscription tenant_routes_;  // tenants:changed → the router forgets a route
    BlobBackend blobs_;
    std::unique_ptr<tenant::TenantStores> tenant_stores_;  // dedicated tenants' buckets
    bus::Subscription tenant_store_routes_;                // tenants:changed → forget a route
    std::unique_ptr<Vectors> vectors_;
    std::unique_ptr<chat::RelevanceScorer> remote_scorer_;  // VECTORMAN_ENDPOINT

    // Services; declared after what they depend on (members are destroyed in reverse).
    std::optional<org::Credentials> credentials_;
    std::optional<auth::PasswordHasher> hasher_;
    std::optional<session::SessionEvents> session_events_;
    std::optional<org::OrgService> org_;
    std::optional<tenant::TenantService> tenant_;
    std::optional<chat::ChatService> chat_;
    std::optional<files::FilesService> files_;
    std::optional<session::SessionService> session_;
    std::optional<notes::NotesService> notes_;
    std::optional<session::Presence> presence_;
    // Redis: presence across nodes. Declared after presence_ so that it goes first: stopping
    // its thread runs a queued heartbeat, which calls into presence_.
    std::unique_ptr<session::PresenceDirectory> directory_;
    std::optional<chat::RoomHub> room_hub_;
    std::optional<session::SessionHub> session_hub_;

    // Workers.
    std::unique_ptr<queue::InprocQueue> events_;
    std::unique_ptr<queue::AmqpQueue> broker_;  // LAVINMQ_URL: published to before events_
    std::atomic<const queue::AmqpQueue*> broker_seen_{nullptr};  // for the metrics thread
    std::optional<queue::TeeQueue> broker_then_events_;
    std::optional<queue::ProcessedEvents> vector_applied_;  // its ids, once each
    std::atomic<const queue::ProcessedEvents*> consumer_applied_{nullptr};
    ConsumerGroups consumers_;  // with a broker: msg.vector-index, msg.thumbnails
    std::optional<queue::OutboxRelay> relay_;
    /// One relay per dedicated tenant database (each has its own outbox), kept in step with
    /// the registry by relay_dedicated(); a stopped one stays until the node ends (its loop
    /// may still be finishing).
    struct DedicatedRelay {
        std::shared_ptr<pg::Pool> pool;
        std::unique_ptr<queue::OutboxRelay> relay;
        bool stopped = false;
    };
    std::map<std::string, DedicatedRelay> dedicated_relays_;  // by the database's key
    std::vector<DedicatedRelay> retired_relays_;              // stopped, replaced since
    std::atomic<bool> workers_stopping_{false};
    queue::EventQueue* relayed_ = nullptr;
    core::Task<void> relay_dedicated();
};

}  // namespace msg::app
