#include "app/node.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <mutex>
#include <set>

#include "app/run_once.hpp"
#include "app/vectors.hpp"
#include "blob/local_routes.hpp"
#include "blob/local_store.hpp"
#include "chat/routes.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "data/dbman_routes.hpp"
#include "data/operations.hpp"
#include "files/handlers.hpp"
#include "notes/routes.hpp"
#include "org/routes.hpp"
#include "session/model.hpp"
#include "session/realtime.hpp"
#include "session/routes.hpp"
#include "tenant/router.hpp"
#include "tenant/routes.hpp"
#include "tenant/stores.hpp"
#include "transport/http_server.hpp"
#include "vector/handlers.hpp"
#include "vector/service.hpp"

namespace msg::app {

namespace asio = boost::asio;

namespace {
constexpr std::string_view kTenantsChanged = "tenants:changed";
}

namespace {

/// A gauge of `(part->*read)()`, 0 while `part` is null.
template <class T>
std::function<double()> count_of(const std::atomic<const T*>& part,
                                 std::uint64_t (T::*read)() const) {
    return [&part, read] {
        const T* p = part.load();
        return p != nullptr ? static_cast<double>((p->*read)()) : 0.0;
    };
}

/// Readiness: the database answered a trivial query (through the dbman tier when remote). The
/// answer is cached for a second, and one probe runs at a time (callers meanwhile get the last
/// answer): an unauthenticated flood of /health/ready costs at most one pool checkout a second, not
/// one per call.
struct ReadyProbe {
    std::mutex mutex;
    core::Clock::steady_point checked{};
    bool ok = false;
    bool probing = false;
};

/// Redis away is degraded, not unready (200): the node still serves REST and delivers to its own
/// sockets, and taking every node out of the balancer because Redis blinked would turn a
/// realtime degradation into an outage.
core::Task<core::Result<core::HttpResponse>> ready(data::Executor* db, const core::Clock* clock,
                                                   ReadyProbe* probe, const bus::Bus* bus) {
    bool run = false, ok = false;
    {
        std::lock_guard lock(probe->mutex);
        ok = probe->ok;
        if (!probe->probing && clock->steady_now() - probe->checked >= std::chrono::seconds(1)) {
            probe->probing = run = true;
        }
    }
    if (run) {
        std::string failure;
        try {
            auto pong = co_await db->run<data::Ping>();  // the dbman tier's database, if remote
            if (!pong) failure = pong.error().message;
        } catch (const std::exception& e) {
            failure = e.what();
        }
        if (!failure.empty()) core::logger("app")->warn("readiness failed error=\"{}\"", failure);
        ok = failure.empty();
        std::lock_guard lock(probe->mutex);
        probe->ok = ok;
        probe->checked = clock->steady_now();
        probe->probing = false;
    }
    if (!ok) {
        co_return core::json_response(
            503, boost::json::object{{"status", "not_ready"}, {"error", "database unavailable"}});
    }
    if (!bus->connected()) {
        co_return core::json_response(
            200, boost::json::object{{"status", "degraded"}, {"error", "redis unavailable"}});
    }
    co_return core::json_response(200, boost::json::object{{"status", "ready"}});
}

core::Task<core::Result<core::HttpResponse>> constant(core::HttpResponse response) {
    co_return response;
}

core::Task<core::Result<core::HttpResponse>> metrics_text(core::Metrics* metrics) {
    co_return core::HttpResponse{200, metrics->render(), "text/plain; version=0.0.4", {}};
}

/// Notes' attachment check in a role without files: nothing is attachable.
core::Task<core::Result<std::string>> no_attachments(const core::Principal&, std::string) {
    co_return core::forbidden("file access denied");
}

}  // namespace

void ConsumerGroups::add(std::unique_ptr<queue::AmqpConsumer> c) {
    const std::size_t n = count.load(std::memory_order_relaxed);
    if (n == kMax) throw std::logic_error("too many consumer groups");
    groups[n] = std::move(c);
    count.store(n + 1, std::memory_order_release);
}

core::Metrics::LabelledValues ConsumerGroups::each(std::uint64_t (queue::AmqpConsumer::*read)()
                                                       const) const {
    const std::size_t n = count.load(std::memory_order_acquire);
    core::Metrics::LabelledValues out;
    for (std::size_t i = 0; i < n; ++i) out.emplace_back(groups[i]->group(), (*groups[i].*read)());
    return out;
}

Node::Node(const Config& config, const Role& role, asio::io_context& io)
    : config_(config),
      role_(role),
      io_(io),
      timers_(io),
      tasks_(io, "node"),
      blocking_(static_cast<std::size_t>(config.blocking_threads)),
      hashing_(static_cast<std::size_t>(config.auth.hash_threads),
               static_cast<std::size_t>(config.auth.hash_queue)),
      jwt_(config.auth.jwt_secret, config.auth.jwt_ttl, clock_) {}

Node::~Node() = default;

bool Node::build() {
    auto log = core::logger("app");
    db_ = std::make_unique<Database>(config_, role_, io_, operation_registry(), clock_);
    if (pg::Pool* p = db_->primary()) {
        pg::Pool& primary = *p;
        metrics_.add_gauge("msg_pg_pool_connections", "Open PostgreSQL connections (primary).",
                           [&primary] { return static_cast<double>(primary.size()); });
        metrics_.add_gauge("msg_pg_pool_in_use", "PostgreSQL connections leased now (primary).",
                           [&primary] { return static_cast<double>(primary.in_use()); });
        metrics_.add_gauge("msg_pg_pool_max", "PostgreSQL pool bound (primary).",
                           [&primary] { return static_cast<double>(primary.max_size()); });
    }
    if (const data::Executor* local = db_->local(); local && local->fence()) {
        const data::ReplicaFence* fence = local->fence();
        metrics_.add_counter_family(
            "msg_pg_replica_reads_total",
            "Reads a replica may serve (POSTGRES_READ_DSN), by where they ran: the replica, the "
            "primary because the replica had not replayed this node's writes for the tenant "
            "(behind), or because it could not be reached (unavailable).",
            "served_by", [fence] {
                const auto c = fence->counts();
                return core::Metrics::LabelledValues{
                    {"replica", c.replica},
                    {"primary_behind", c.primary_behind},
                    {"primary_unavailable", c.primary_unavailable}};
            });
    }
    if (const data::DbmanClient* d = db_->dbman()) {
        metrics_.add_counter_family(
            "msg_dbman_requests_total",
            "Data operations sent to the dbman tier (kind=call), and attempts at an endpoint that "
            "failed: not sent, timed out, 5xx (kind=failed_attempt).",
            "kind", [d] {
                return core::Metrics::LabelledValues{{"call", d->calls()},
                                                     {"failed_attempt", d->failures()}};
            });
        metrics_.add_gauge("msg_dbman_endpoints_cooling", "dbman endpoints in cooldown now.",
                           [d] { return static_cast<double>(d->endpoints().cooling()); });
    }
    bus_ = make_bus(config_);
    metrics_.add_gauge("msg_bus_connected",
                       "1 while the bus reaches the other nodes (in process: always 1).",
                       [b = bus_.get()] { return b->connected() ? 1.0 : 0.0; });
    if (tenant::DatabaseRouter* router = db_->router()) {
        tenant_routes_ = bus_->subscribe(
            std::string(kTenantsChanged),
            [router](const bus::Payload& tenant_id) { router->invalidate(*tenant_id); },
            [router] { router->invalidate_all(); });
    }
    // Tokens are checked at the moment of use; changes revoke them on every node (issue 12).
    credentials_.emplace(db_->executor(), *bus_, clock_, config_.auth.credentials);

    if (role_.uses(Backend::blob)) {
        blobs_ = make_blob_store(config_, blocking_, clock_);
        try {
            run_once(blobs_.store->ensure());
        } catch (const std::exception& e) {
            log->error("blob store unavailable error=\"{}\"", e.what());
            return false;
        }
        tenant_stores_ = std::make_unique<tenant::TenantStores>(
            db_->executor(), *blobs_.http, clock_, config_.tenant_secrets_key, *blobs_.store,
            tenant::TenantStores::Options{config_.files.s3_bucket, config_.tenant_cache_ttl});
        tenant_store_routes_ = bus_->subscribe(
            std::string(kTenantsChanged),
            [stores = tenant_stores_.get()](const bus::Payload& id) { stores->invalidate(*id); },
            [stores = tenant_stores_.get()] { stores->invalidate_all(); });
    }
    if (role_.uses(Backend::vector)) {
        vectors_ = make_vectors(config_, db_->executor(), blocking_);
        if (vectors_) {
            try {
                run_once(vectors_->ensure());
            } catch (const std::exception& e) {
                log->error("vector index unavailable error=\"{}\"", e.what());
                // Vectors are the whole of vectorman; elsewhere chat serves without its rerank.
                if (role_.serves_only(RouteGroup::vector)) return false;
                vectors_.reset();
            }
        }
    }
    if (role_.has(RouteGroup::chat) && !vectors_ && !config_.vector.vectorman_endpoint.empty()) {
        remote_scorer_ = remote_scorer(config_);  // vectorman runs apart
    }
    return true;
}

session::SessionEvents& Node::session_events() {
    if (!session_events_) session_events_.emplace(*bus_);
    return *session_events_;
}

org::OrgService& Node::org() {
    if (org_) return *org_;
    hasher_.emplace(config_.auth.password_cost);
    org_.emplace(db_->executor(), jwt_, *hasher_, hashing_, clock_, config_.auth.login);
    org_->on_credentials_changed([this](const std::string& tenant_id, std::int64_t user_id) {
        credentials_->revoke_user(tenant_id, user_id);
    });
    // Built here, not from the observer: observers run on I/O threads, getters are not
    // thread-safe (they run while the node is built).
    org_->on_status_changed(
        [events = &session_events()](const std::string& tenant_id, const org::StatusChange& c) {
            events->broadcast_tenant(tenant_id, session::status_changed_event(tenant_id, c));
        });
    return *org_;
}

tenant::TenantService& Node::tenant() {
    if (tenant_) return *tenant_;
    tenant_.emplace(db_->executor(), config_.platform_tenant_id, config_.tenant_secrets_key);
    tenant_->on_active_changed(
        [this](const std::string& tenant_id) { credentials_->revoke_tenant(tenant_id); });
    // Every node's router (dbman's, when this one sends operations there) forgets the route.
    tenant_->on_changed([bus = bus_.get()](const std::string& tenant_id) {
        bus->publish(std::string(kTenantsChanged), std::make_shared<const std::string>(tenant_id));
    });
    return *tenant_;
}

chat::ChatService& Node::chat() {
    if (chat_) return *chat_;
    chat_.emplace(db_->executor(), *bus_, clock_, metrics_,
                  chat::ChatLimits{.sends_per_user_per_second = config_.sends_per_user_per_second,
                                   .batching = {}});
    // Rerank: the index in process where the role has it, else vectorman over HTTP.
    if (vectors_) {
        chat_->set_relevance_scorer(&vectors_->scorer());
    } else if (remote_scorer_) {
        chat_->set_relevance_scorer(remote_scorer_.get());
    }
    return *chat_;
}

files::FilesService* Node::files() {
    if (!blobs_.store) return nullptr;
    if (!files_)
        files_.emplace(db_->executor(), *blobs_.store, chat(), blocking_,
                       config_.files.max_upload_bytes, tenant_stores_.get());
    return &*files_;
}

session::SessionService& Node::session() {
    if (!session_) {
        session_.emplace(db_->executor(), session_events(), org(), clock_,
                         config_.sends_per_user_per_second);
    }
    return *session_;
}

notes::NotesService& Node::notes() {
    if (notes_) return *notes_;
    notes::AttachmentCheck attachments = no_attachments;
    if (files::FilesService* f = files()) {
        attachments = [f](const core::Principal& sender, std::string key) {
            return f->attachable(sender, std::move(key));
        };
    }
    notes::NoteNotifier notify =
        [events = &session_events()](
            const std::string& tenant_id,
            const std::vector<std::pair<std::int64_t, boost::json::object>>& payloads) {
            events->notify_users(tenant_id, payloads);
        };
    notes_.emplace(db_->executor(), std::move(notify), clock_, config_.sends_per_user_per_second,
                   std::move(attachments));
    return *notes_;
}

session::Presence& Node::presence() {
    if (presence_) return *presence_;
    if (!config_.redis_addr.empty()) {
        // A node id for this run: a restarted node is a new node, and its old entries are
        // released when the old id stops beating.
        directory_ = session::redis_directory(redis::parse_address(config_.redis_addr).value(),
                                              core::random_hex(8), config_.presence_node_ttl);
    }
    presence_.emplace(org(), session_events(), tasks_, directory_.get());
    return *presence_;
}

chat::RoomHub& Node::room_hub() {
    if (!room_hub_) room_hub_.emplace(*bus_, timers_, clock_);
    return *room_hub_;
}

session::SessionHub& Node::session_hub() {
    if (!session_hub_) session_hub_.emplace(*bus_);
    return *session_hub_;
}

std::vector<core::Route> Node::routes() {
    using core::Access;
    using core::Method;
    auto ok = core::json_response(200, boost::json::object{{"status", "ok"}});
    std::vector<core::Route> out = {
        {Method::get, "/health", Access::open, [ok](core::HttpRequest&) { return constant(ok); }},
        {Method::get, "/health/live", Access::open,
         [ok](core::HttpRequest&) { return constant(ok); }},
        {Method::get, "/health/ready", Access::open,
         [db = &db_->executor(), c = &clock_, probe = std::make_shared<ReadyProbe>(),
          b = bus_.get()](core::HttpRequest&) { return ready(db, c, probe.get(), b); }},
        {Method::get, "/metrics", Access::open,
         [m = &metrics_](core::HttpRequest&) { return metrics_text(m); }},
    };
    auto add = [&out](std::vector<core::Route> routes) {
        for (auto& r : routes) out.push_back(std::move(r));
    };
    for (auto group : role_.groups) {
        switch (group) {
            case RouteGroup::org:
                add(org::routes(org()));
                break;
            case RouteGroup::tenant:
                add(tenant::routes(tenant()));
                break;
            case RouteGroup::chat:
                add(chat::routes(chat()));
                break;
            case RouteGroup::session:
                add(session::routes(session()));
                add(notes::routes(notes()));
                break;
            case RouteGroup::vector:
                if (vectors_) add(vector::routes(vectors_->service()));
                break;
            case RouteGroup::files:
                if (files::FilesService* f = files()) add(files::routes(*f));
                break;
            case RouteGroup::dbman:
                add(data::dbman_routes(operation_registry(), *db_->local()));
                break;
        }
    }
    return out;
}

std::vector<core::WsRoute> Node::ws_routes() {
    std::vector<core::WsRoute> out;
    auto add = [&out](std::vector<core::WsRoute> routes) {
        for (auto& r : routes) out.push_back(std::move(r));
    };
    if (role_.has(RouteGroup::chat)) add(chat::ws_routes(chat(), room_hub(), &presence()));
    if (role_.has(RouteGroup::session)) {
        add(session::ws_routes(session(), session_hub(), &presence()));
    }
    return out;
}

std::vector<core::StreamRoute> Node::stream_routes() {
    std::vector<core::StreamRoute> out;
    if (blobs_.local && role_.has(RouteGroup::files)) {
        out.push_back(
            blob::local_blob_route(*blobs_.local, blocking_, config_.files.max_upload_bytes));
    }
    return out;
}

std::unique_ptr<transport::Pipeline> Node::pipeline(const transport::Router& router) {
    auto p = std::make_unique<transport::Pipeline>(router, jwt_, metrics_, config_.cors);
    p->set_internal_token(config_.internal_api_token);
    p->set_credentials(&*credentials_);
    return p;
}

void Node::watch(const transport::HttpServer& server) {
    metrics_.add_gauge("msg_http_connections", "Open HTTP connections.",
                       [&server] { return static_cast<double>(server.connections()); });
    metrics_.add_gauge("msg_ws_connections", "Open WebSockets.",
                       [&server] { return static_cast<double>(server.websockets()); });
    // Every role exports the same series (docs/API.md); 0 where the role has no such part.
    metrics_.add_gauge("msg_ws_rooms", "Rooms this node is subscribed to.", [this] {
        return room_hub_ ? static_cast<double>(room_hub_->rooms()) : 0.0;
    });
    metrics_.add_gauge("msg_ws_session_sockets", "Open /ws/session sockets on this node.", [this] {
        return session_hub_ ? static_cast<double>(session_hub_->sockets()) : 0.0;
    });
    metrics_.add_gauge("msg_presence_users", "Users with an open socket on this node.", [this] {
        return presence_ ? static_cast<double>(presence_->users()) : 0.0;
    });
    // Counts of parts that start with the workers, which the metrics thread may read at any
    // time. Per consumer group (label `group`): no series before the groups start or without a
    // broker. The processed-events counts below read an atomic pointer, 0 until it is set.
    const auto per_group = [this](std::uint64_t (queue::AmqpConsumer::*read)() const) {
        return [this, read] { return consumers_.each(read); };
    };
    metrics_.add_counter_family("msg_events_consumed_total",
                                "Broker events a consumer group handled and acked.", "group",
                                per_group(&queue::AmqpConsumer::handled));
    metrics_.add_counter_family("msg_events_retried_total",
                                "Broker events sent to a delay queue after a failure.", "group",
                                per_group(&queue::AmqpConsumer::retried));
    metrics_.add_counter_family(
        "msg_events_dead_lettered_total",
        "Broker events sent to the dead-letter queue after their last attempt.", "group",
        per_group(&queue::AmqpConsumer::dead));
    metrics_.add_counter_family(
        "msg_events_redelivered_total",
        "Broker deliveries marked redelivered (held unacked by a consumer whose channel closed).",
        "group", per_group(&queue::AmqpConsumer::redelivered));
    metrics_.add_gauge(
        "msg_events_applied_total",
        "Broker events applied by the consumers that keep processed_events ids (vector-index) "
        "on their first delivery.",
        count_of(consumer_applied_, &queue::ProcessedEvents::applied));
    metrics_.add_gauge("msg_events_duplicates_total",
                       "Redelivered broker events skipped: their id was applied already.",
                       count_of(consumer_applied_, &queue::ProcessedEvents::duplicates));
    metrics_.add_gauge("msg_amqp_connected",
                       "1 while this node's event broker connection (LAVINMQ_URL) is open.",
                       [this] {
                           const auto* broker = broker_seen_.load();
                           return broker != nullptr && broker->connected() ? 1.0 : 0.0;
                       });
}

namespace {
/// The relay starts once the broker consumer groups declared their queues (or after 10 s with
/// the broker away): events published before a group's queue exists would go nowhere.
core::Task<void> relay_when_declared(std::vector<core::Event> declared, queue::OutboxRelay& relay,
                                     boost::asio::io_context& io) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (auto& d : declared) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            until - std::chrono::steady_clock::now());
        if (left.count() > 0) co_await d.wait_for(left);
    }
    co_await relay.run(io);
}
}  // namespace

void Node::start_workers() {
    if (presence_) presence_->start(timers_);
    if (vectors_) tasks_.spawn(vectors_->flush_every(io_, config_.vector.flush_every));
    auto& dispatched = metrics_.counter("msg_events_dispatched_total",
                                        "Outbox events handed to in-process consumers.");
    if (!role_.runs(Worker::outbox_relay)) return;
    events_ = make_queue(config_);
    events_->subscribe("message.created", [&dispatched](const queue::Event&) { dispatched.inc(); });
    queue::EventQueue* relayed = events_.get();
    broker_ = make_broker(config_);
    if (broker_) {
        broker_then_events_.emplace(*broker_, *events_);
        relayed = &*broker_then_events_;
        broker_seen_ = broker_.get();
    }
    // Work off the request path. With a broker each is a consumer group of its own
    // (msg.<group>: retries, dead letters, shared by every node that runs it); without one the
    // relay calls it in process and retries the outbox row on a failure.
    std::vector<core::Event> declared;
    auto consume = [&](const char* group, const char* topic, queue::AmqpConsumer::Handler work) {
        if (!broker_) {
            events_->subscribe_async(topic, std::move(work));
            return;
        }
        auto c = make_consumer(config_, io_, group, {std::string("#.") + topic}, std::move(work));
        c->start();  // made whenever make_broker made a broker
        declared.push_back(c->declared());
        consumers_.add(std::move(c));
    };
    if (vectors_) {
        vector::VectorService& vs = vectors_->service();
        queue::AmqpConsumer::Handler index = [&vs](const queue::Event& e) {
            return vs.on_message_created(e);
        };
        if (broker_) {
            // Applied once per event id (processed_events), whatever the broker redelivers.
            vector_applied_.emplace(*db_->primary(), "vector-index");
            consumer_applied_ = &*vector_applied_;
            index = std::bind(&queue::apply_once, std::ref(*vector_applied_), std::move(index),
                              std::placeholders::_1);
        }
        consume("vector-index", "message.created", std::move(index));
    }
    if (role_.runs(Worker::consumers)) {
        // Both idempotent by a natural key: only a pending thumbnail is made; one mention
        // notification per (message, recipient).
        if (files::FilesService* files_service = files()) {
            consume("thumbnails", "file.registered", [files_service](const queue::Event& e) {
                return files_service->on_file_registered(e);
            });
        }
        consume("notifications", "message.created",
                [s = &session()](const queue::Event& e) { return s->on_message_created(e); });
    }
    relayed_ = relayed;
    if (db_->router() != nullptr) tasks_.spawn(relay_dedicated());
    relay_.emplace(*db_->primary(), *relayed,
                   queue::RelayOptions{.batch = static_cast<std::size_t>(config_.outbox_batch),
                                       .retention = config_.outbox_retention});
    if (!declared.empty()) {
        tasks_.spawn(relay_when_declared(std::move(declared), *relay_, io_));
    } else {
        tasks_.spawn(relay_->run(io_));
    }
}

core::Task<void> Node::relay_dedicated() {
    auto log = core::logger("app");
    const queue::RelayOptions options{.batch = static_cast<std::size_t>(config_.outbox_batch),
                                      .retention = config_.outbox_retention};
    while (!workers_stopping_) {
        std::vector<tenant::DatabaseRouter::Dedicated> now;
        bool listed_all = false;
        try {
            now = co_await db_->router()->dedicated_databases();
            listed_all = true;
        } catch (const std::exception& e) {
            // The registry away is no reason to stop relays that work: try again later.
            log->warn("dedicated databases not listed error=\"{}\"", e.what());
        }
        std::set<std::string> listed;
        for (auto& d : now) {
            listed.insert(d.key);
            auto& r = dedicated_relays_[d.key];
            if (r.relay && !r.stopped) continue;  // running
            if (r.relay) {
                // Stopped when the database left the registry, and back: a new relay; the old
                // one (and the pool it runs on) lives until the node ends its loop.
                retired_relays_.push_back(std::move(r));
                r = DedicatedRelay{};
            }
            r.pool = d.pool;
            r.relay = std::make_unique<queue::OutboxRelay>(*r.pool, *relayed_, options);
            tasks_.spawn(r.relay->run(io_));
            log->info("outbox relay started for a dedicated database tenant={}", d.tenant_id);
        }
        for (auto& [key, r] : dedicated_relays_) {
            if (listed_all && !listed.contains(key) && r.relay && !r.stopped) {
                r.relay->stop();
                r.stopped = true;
            }
        }
        boost::asio::steady_timer wait(io_, std::chrono::seconds(2));
        co_await wait.async_wait(boost::asio::use_awaitable);
    }
}

void Node::stop_workers() {
    workers_stopping_ = true;
    for (auto& [key, r] : dedicated_relays_) {
        if (r.relay && !r.stopped) r.relay->stop();
    }
    if (relay_) relay_->stop();
    for (std::size_t i = 0; i < consumers_.count; ++i) consumers_.groups[i]->request_stop();
    if (vectors_) vectors_->stop_flushing();
    if (presence_) presence_->stop();
}

void Node::finish() {
    // The event loops have ended: a delivery in hand is left unacked (delivered again).
    for (std::size_t i = 0; i < consumers_.count; ++i) consumers_.groups[i]->stop();
    if (vectors_) {
        try {
            run_once(vectors_->flush());
        } catch (const std::exception& e) {
            core::logger("app")->error("vector index flush at shutdown failed error=\"{}\"",
                                       e.what());
        }
    }
    if (broker_) broker_->stop();  // a batch in progress is cut (its rows are retried)
    blocking_.stop();
    hashing_.stop();
}

}  // namespace msg::app
