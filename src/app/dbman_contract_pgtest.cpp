// The dbman contract (issue 17): every registered data operation gives the same answer run
// locally and sent through the remote executor to dbman's routes over real HTTP. One scenario
// calls every operation (a test below fails when one is left out) twice, each time on a fresh
// database: once through a local executor, once through DbmanClient → HTTP → dbman_routes →
// a local executor on the other database. Same steps on empty databases give the same ids, so
// the answers must match field for field, except wall-clock times and random tokens.

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <set>

#include "app/backends.hpp"
#include "chat/operations.hpp"
#include "core/clock.hpp"
#include "data/dbman_client.hpp"
#include "data/dbman_routes.hpp"
#include "data/operations.hpp"
#include "data/wire.hpp"
#include "files/operations.hpp"
#include "notes/operations.hpp"
#include "org/operations.hpp"
#include "search/tokenizer.hpp"
#include "session/operations.hpp"
#include "storage/pg/pool.hpp"
#include "tenant/operations.hpp"
#include "testing/co_test.hpp"
#include "testing/loopback_server.hpp"
#include "testing/pg_database.hpp"
#include "transport/http_client.hpp"
#include "vector/operations.hpp"

namespace msg::app {
namespace {

namespace json = boost::json;

const std::string kToken(40, 'k');
const std::string kTenant = "contract";

struct Call {
    std::string op;
    std::string answer;  // the Response or the Error, as dbman would send it
};
using Log = std::vector<Call>;

pg::PoolOptions pool_on(const std::string& dsn) {
    pg::PoolOptions o;
    o.connection.dsn = dsn;
    o.max_size = 4;
    return o;
}

/// Runs Op on `db` and logs its answer.
template <class Op, class... Args>
core::Task<core::Result<typename Op::Response>> rec(data::Executor& db, Log& log, Args&&... args) {
    auto r = co_await db.run<Op>(std::forward<Args>(args)...);
    log.push_back(
        {std::string(Op::kName), r ? data::wire::encode(*r) : data::encode_error(r.error())});
    co_return r;
}

/// The answers with what differs between two honest runs masked: wall-clock times, the
/// random session ids and nanosecond cursors derived from the clock.
void mask(json::value& v) {
    if (v.is_array()) {
        for (auto& item : v.get_array()) mask(item);
        return;
    }
    if (!v.is_object()) return;
    for (auto& [key, value] : v.get_object()) {
        const std::string_view k = key;
        if (k.ends_with("_at") || k.ends_with("unix_nanos") || k == "session_id") {
            value = "<masked>";
        } else {
            mask(value);
        }
    }
}

std::string masked(const std::string& answer) {
    json::value v = json::parse(answer);
    mask(v);
    return json::serialize(v);
}

std::vector<std::string> tokens_of(const char* text) { return search::index_tokens(text); }

/// Every operation at least once, errors included (403, 404, 409), in an order where each
/// finds what it needs.
core::Task<void> scenario(data::Executor& db, Log& log) {
    const std::string t = kTenant;
    co_await rec<data::Ping>(db, log);

    // tenants
    tenant::Tenant created;
    created.tenant_id = t;
    created.name = "Contract Inc";
    auto made_tenant = co_await rec<tenant::CreateTenant>(db, log, created);
    CO_ASSERT(made_tenant.has_value());
    auto again = co_await rec<tenant::CreateTenant>(db, log, created);
    CO_ASSERT(!again.has_value());  // 409
    tenant::TenantPatch patch;
    patch.name = "Contract Ltd";
    co_await rec<tenant::UpdateTenant>(db, log, t, patch);
    const std::optional<std::string> only = t;
    co_await rec<tenant::ListTenants>(db, log, only);
    co_await rec<tenant::TenantHasData>(db, log, t);
    // Without a router it runs on this database: migrations are a no-op check, a row is made.
    const std::string provisioned = "contract-provisioned", provisioned_name = "P", no_dsn;
    co_await rec<tenant::ProvisionTenant>(db, log, provisioned, provisioned_name, true, no_dsn);

    // org
    const std::optional<std::int64_t> no_parent;
    const std::string hq = "HQ";
    auto org = co_await rec<org::CreateOrgUnit>(db, log, t, no_parent, hq);
    CO_ASSERT(org.has_value());
    co_await rec<org::ListOrgUnits>(db, log, t);
    std::vector<std::int64_t> users;
    for (int i = 0; i < 4; ++i) {
        org::CreateUser::Request u{t,
                                   org->id,
                                   "u" + std::to_string(i) + "@example.com",
                                   "user" + std::to_string(i),
                                   "Engineer",
                                   "user",
                                   "offline",
                                   "",
                                   "hash" + std::to_string(i)};
        auto made = co_await rec<org::CreateUser>(db, log, u);
        CO_ASSERT(made.has_value());
        users.push_back(made->id);
    }
    const std::int64_t a = users[0], b = users[1], c = users[2], d = users[3];
    const std::string email = "u1@example.com";
    co_await rec<org::FindLoginUser>(db, log, t, email);
    co_await rec<org::LoadCredentials>(db, log, t, b);
    const std::optional<bool> keep_active;
    const std::optional<std::string> manager = "manager", same_hash;
    co_await rec<org::ChangeCredentials>(db, log, t, b, keep_active, manager, same_hash, false);
    co_await rec<org::GetUser>(db, log, t, b);
    const std::int64_t nobody = 999'999;
    co_await rec<org::GetUser>(db, log, t, nobody);  // 404
    const std::string busy = "busy", note = "in a meeting";
    co_await rec<org::UpdateUserStatus>(db, log, t, c, busy, note);
    co_await rec<org::SetAutoPresence>(db, log, t, d, true);
    co_await rec<org::ResetAutoPresence>(db, log);
    co_await rec<org::IndexUsers>(db, log, 500);
    const std::string user_query = search::to_tsquery(search::parse_query("user1"));
    const std::optional<std::string> no_after;
    const std::optional<std::int64_t> no_id;
    co_await rec<org::SearchUsers>(db, log, t, user_query, no_after, no_id, 20);
    org::AliasChange alias{t, b, "철수", "127.0.0.1", "contract"};
    co_await rec<org::AddAlias>(db, log, alias);
    co_await rec<org::ListAliases>(db, log, t, b);
    co_await rec<org::DeleteAlias>(db, log, alias);
    org::ListAliasAudit::Request audit;
    audit.tenant_id = t;
    audit.user_id = b;
    co_await rec<org::ListAliasAudit>(db, log, audit);
    org::SeedAdmin::Request admin{t, "admin@example.com", "Admin", "Boss", "adminhash", false};
    co_await rec<org::SeedAdmin>(db, log, admin);

    // chat
    const std::string room_name = "general", group = "group";
    const std::vector<std::int64_t> members = {b, c};
    auto room = co_await rec<chat::CreateRoom>(db, log, t, a, room_name, group, members);
    CO_ASSERT(room.has_value());
    const std::int64_t r = room->id;
    co_await rec<chat::Membership>(db, log, t, r, b);
    co_await rec<chat::Membership>(db, log, t, r, d);  // not a member
    const std::vector<std::int64_t> room_ids = {r};
    co_await rec<chat::MemberRooms>(db, log, t, b, room_ids);
    co_await rec<chat::AddMember>(db, log, t, r, d, a);
    co_await rec<chat::AddMember>(db, log, t, r, d, nobody);  // 403
    co_await rec<chat::RemoveMember>(db, log, t, r, d, a, false);
    chat::SendMessage::Request send{
        t, r, a, "hello contract", "{}", std::string("c-1"), tokens_of("hello contract")};
    auto first = co_await rec<chat::SendMessage>(db, log, send);
    CO_ASSERT(first.has_value());
    co_await rec<chat::SendMessage>(db, log, send);  // the same client_msg_id: a duplicate
    chat::SendMessages::Request batch;
    batch.tenant_id = t;
    for (int i = 0; i < 3; ++i) {
        chat::SendMessage::Request s = send;
        s.sender_id = b;
        s.body = "batch " + std::to_string(i);
        s.client_msg_id = "b-" + std::to_string(i);
        s.search_tokens = {};  // left for UnindexedMessages
        batch.sends.push_back(std::move(s));
    }
    chat::SendMessage::Request outsider = send;
    outsider.sender_id = d;
    outsider.client_msg_id = "d-1";
    batch.sends.push_back(outsider);  // not a member: nullopt in its place
    co_await rec<chat::SendMessages>(db, log, batch);
    const std::int64_t m = first->message.id;
    const std::int64_t before_first = m - 1;
    auto unindexed = co_await rec<chat::UnindexedMessages>(db, log, before_first, 500);
    CO_ASSERT(unindexed.has_value());
    std::vector<std::string> token_texts;
    for (const auto& body : unindexed->bodies) token_texts.push_back(search::index_text(body));
    co_await rec<chat::WriteSearchTokens>(db, log, unindexed->ids, token_texts);
    const std::string message_query = search::to_tsquery(search::parse_query("hello"));
    const std::optional<std::int64_t> in_room = r;
    co_await rec<chat::SearchMessages>(db, log, t, a, message_query, in_room, no_id, 30);
    const std::optional<std::int64_t> no_seq;
    co_await rec<chat::ListMessages>(db, log, t, r, 50, no_seq, no_seq, a);
    const std::vector<std::int64_t> after = {1};
    co_await rec<chat::ResumeRooms>(db, log, t, c, room_ids, after, 10);
    co_await rec<chat::MarkRead>(db, log, t, r, b, m);
    co_await rec<chat::LastRead>(db, log, t, r, b);
    co_await rec<chat::ListReaders>(db, log, t, r, m, a);
    co_await rec<chat::UnreadCount>(db, log, t, r, c);
    co_await rec<chat::UnreadCounts>(db, log, t, c);
    co_await rec<chat::ListRooms>(db, log, t, a, 50, no_id, no_id);
    co_await rec<vector::MessagesToIndex>(db, log, t, 0, 500);

    // files
    const std::string key = "tenants/" + t + "/rooms/" + std::to_string(r) + "/a.png";
    const std::string thumb = key + ".thumb.jpg";
    const std::string png = "image/png", original = "a.png";
    co_await rec<files::KeyTaken>(db, log, t, key);
    auto file =
        co_await rec<files::RegisterFile>(db, log, t, r, a, key, png, 1234, thumb, original);
    CO_ASSERT(file.has_value());
    co_await rec<files::KeyTaken>(db, log, t, key);
    co_await rec<files::ThumbnailJob>(db, log, t, file->id);
    co_await rec<files::FinishThumbnail>(db, log, t, file->id, true);
    co_await rec<files::CanDownload>(db, log, t, b, key);
    co_await rec<files::CanDownload>(db, log, t, d, key);  // not in the room
    co_await rec<files::IsRoomFileOfMember>(db, log, t, c, key);
    co_await rec<files::ListRoomFiles>(db, log, t, r, no_id, 50, a);
    const std::vector<std::int64_t> file_ids = {file->id};
    co_await rec<chat::RoomFilesExist>(db, log, t, r, a, file_ids);

    // notes
    const std::vector<notes::Recipient> to = {{b, "to"}, {c, "cc"}};
    const std::vector<notes::NoteFile> no_files;
    const std::string title = "minutes", body = "see you at 3";
    auto n = co_await rec<notes::CreateNote>(db, log, t, a, title, body, to, no_files);
    CO_ASSERT(n.has_value());
    co_await rec<notes::ListInbox>(db, log, t, b, 50, no_id);
    co_await rec<notes::GetNote>(db, log, t, c, n->note_id);
    co_await rec<notes::GetNote>(db, log, t, d, n->note_id);  // not a recipient
    co_await rec<notes::MarkNoteRead>(db, log, t, b, n->note_id);

    // session
    const std::string device = "phone-1", device_name = "Phone", token_hash(64, 'a');
    const std::vector<std::string> tenants = {t};
    auto login =
        co_await rec<session::DeviceLogin>(db, log, t, b, device, device_name, token_hash, tenants);
    CO_ASSERT(login.has_value());
    co_await rec<session::ValidateDevice>(db, log, t, b, login->session_id, token_hash);
    const std::string wrong_hash(64, 'b');
    co_await rec<session::ValidateDevice>(db, log, t, b, login->session_id, wrong_hash);
    const std::optional<std::string> session_id = login->session_id, no_device;
    co_await rec<session::DeviceLogout>(db, log, t, b, session_id, no_device);
    co_await rec<session::DeviceLogoutAll>(db, log, t, b);
    const std::optional<std::int64_t> message_id = m;
    const std::vector<std::int64_t> notify = {b, c};
    const std::string ntitle = "general", nbody = "hello contract";
    co_await rec<session::CreateChatNotifications>(db, log, t, a, r, message_id, ntitle, nbody,
                                                   notify);
    const std::vector<std::string> mention = {"user2"};
    const std::string mention_body = "@user2 hello";
    co_await rec<session::NotifyMentioned>(db, log, t, r, m, a, mention, mention_body);
}

struct Tier {
    explicit Tier(boost::asio::io_context& io)
        : local_pool(io, pool_on(testing::test_database_dsn())),
          served_pool(io, pool_on(testing::another_test_database_dsn())),
          local(local_pool),
          served(served_pool),
          dbman(io, data::dbman_routes(operation_registry(), served), 16 * 1024 * 1024, kToken),
          client(options(), operation_registry(), http, clock),
          remote(client) {}

    data::DbmanClient::Options options() const {
        data::DbmanClient::Options o;
        o.endpoints = {dbman.base_url()};
        o.token = kToken;
        return o;
    }

    pg::Pool local_pool, served_pool;
    data::Executor local, served;
    testing::LoopbackServer dbman;
    transport::BeastHttpClient http;
    core::SystemClock clock;
    data::DbmanClient client;
    data::Executor remote;
};

CO_TEST(DbmanContract, EveryOperationAnswersTheSameLocallyAndThroughDbman) {
    Tier tier(ctx.io);
    Log local, remote;
    co_await scenario(tier.local, local);
    co_await scenario(tier.remote, remote);

    std::set<std::string> called;
    for (const auto& c : local) called.insert(c.op);
    for (const auto name : operation_registry().names()) {
        EXPECT_TRUE(called.count(std::string(name))) << "the scenario never calls " << name;
    }
    // The scenario means what it says: exactly its four refusals (409 tenant exists, 404 user,
    // 403 add by a stranger, 404 note of someone else) are errors, everything else answered.
    std::vector<std::string> refused;
    for (const auto& c : local) {
        if (c.answer.find("\"code\":") != std::string::npos) refused.push_back(c.op);
    }
    EXPECT_EQ(refused, (std::vector<std::string>{"tenants/create", "users/get", "rooms/members/add",
                                                 "session/notes/get"}));
    CO_ASSERT(local.size() == remote.size());
    for (std::size_t i = 0; i < local.size(); ++i) {
        EXPECT_EQ(masked(local[i].answer), masked(remote[i].answer))
            << "step " << i << " " << local[i].op;
    }
    EXPECT_EQ(tier.client.calls(), remote.size());
    EXPECT_EQ(tier.client.failures(), 0u);
}

core::Task<core::Result<core::HttpResponse>> broken(core::HttpRequest&) {
    co_return core::HttpResponse{500, R"({"error":"boom"})", "application/json", {}};
}

/// A dbman that fails every operation with a 500 after reading it (it may have run it).
std::vector<core::Route> broken_routes() {
    std::vector<core::Route> out;
    for (const auto& [name, entry] : operation_registry().entries()) {
        out.push_back(
            {core::Method::post, "/api/internal/v1/db/" + name, core::Access::internal, &broken});
    }
    return out;
}

struct Failover {
    explicit Failover(boost::asio::io_context& io)
        : pool(io, pool_on(testing::test_database_dsn())),
          local(pool),
          good(io, data::dbman_routes(operation_registry(), local), 16 * 1024 * 1024, kToken),
          bad(io, broken_routes(), 16 * 1024 * 1024, kToken) {}

    /// A client over `endpoints`, in that order; no cooldown gets in the way.
    std::unique_ptr<data::DbmanClient> client(std::vector<std::string> endpoints) {
        data::DbmanClient::Options o;
        o.endpoints = std::move(endpoints);
        o.token = kToken;
        o.fail_threshold = 100;
        return std::make_unique<data::DbmanClient>(std::move(o), operation_registry(), http, clock);
    }

    pg::Pool pool;
    data::Executor local;
    testing::LoopbackServer good, bad;
    transport::BeastHttpClient http;
    core::SystemClock clock;
};

CO_TEST(DbmanFailover, OnlyIdempotentOperationsAreSentAgainAfterAFailureThatMayHaveRun) {
    Failover f(ctx.io);
    const std::string t = testing::unique_tenant("failover");
    const auto users = co_await testing::create_tenant_with_users(f.pool, t, 2);
    auto client = f.client({f.bad.base_url(), f.good.base_url()});
    data::Executor remote(*client);

    // Call 1 starts at the broken endpoint: a membership check is a read, so it goes on.
    auto member = co_await remote.run<chat::Membership>(t, 1, users[0]);
    CO_ASSERT(member.has_value());
    EXPECT_EQ(client->failures(), 1u);
    co_await remote.run<data::Ping>();  // call 2 starts at the good one
    EXPECT_EQ(client->failures(), 1u);

    // Call 3 starts at the broken one again: a room creation may have run there, so it is not
    // sent to the good endpoint — 503, and no room exists.
    const std::string name = "once", group = "group";
    const std::vector<std::int64_t> members = {users[1]};
    bool unavailable = false;
    try {
        co_await remote.run<chat::CreateRoom>(t, users[0], name, group, members);
    } catch (const core::UnavailableException&) {
        unavailable = true;
    }
    EXPECT_TRUE(unavailable);
    EXPECT_EQ(client->failures(), 2u);
    const std::optional<std::int64_t> none;
    auto rooms = co_await f.local.run<chat::ListRooms>(t, users[0], 50, none, none);
    CO_ASSERT(rooms.has_value());
    EXPECT_TRUE(rooms->items.empty());
}

CO_TEST(DbmanFailover, ARequestThatNeverLeftGoesToTheNextEndpointWhateverItIs) {
    Failover f(ctx.io);
    const std::string t = testing::unique_tenant("notsent");
    const auto users = co_await testing::create_tenant_with_users(f.pool, t, 2);
    // Port 1 on loopback: nothing listens, the connection is refused before anything is sent.
    auto client = f.client({"http://127.0.0.1:1", f.good.base_url()});
    data::Executor remote(*client);
    const std::string name = "made", group = "group";
    const std::vector<std::int64_t> members = {users[1]};
    auto room = co_await remote.run<chat::CreateRoom>(t, users[0], name, group, members);
    CO_ASSERT(room.has_value());
    EXPECT_TRUE(room->created);
    EXPECT_EQ(client->failures(), 1u);
}

CO_TEST(DbmanFailover, AWrongTokenIsADeploymentFaultNotAnAnswer) {
    Failover f(ctx.io);
    data::DbmanClient::Options o;
    o.endpoints = {f.good.base_url()};
    o.token = std::string(40, 'w');
    data::DbmanClient client(std::move(o), operation_registry(), f.http, f.clock);
    data::Executor remote(client);
    bool unavailable = false;
    try {
        co_await remote.run<data::Ping>();
    } catch (const core::UnavailableException& e) {
        unavailable = true;
        EXPECT_EQ(std::string(e.what()).find("127.0.0.1"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(unavailable);
}

}  // namespace
}  // namespace msg::app
