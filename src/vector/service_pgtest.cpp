#include <boost/json.hpp>

#include "chat/operations.hpp"
#include "core/blocking.hpp"
#include "data/executor.hpp"
#include "queue/event_queue.hpp"
#include "search/tokenizer.hpp"
#include "storage/pg/pool.hpp"
#include "testing/co_test.hpp"
#include "testing/pg_database.hpp"
#include "testing/temp_dir.hpp"
#include "vector/embedder.hpp"
#include "vector/hnsw_index.hpp"
#include "vector/service.hpp"

namespace msg::vector {
namespace {

core::Task<std::int64_t> send(data::Executor& db, const std::string& tenant, std::int64_t room,
                              std::int64_t sender, std::string_view body) {
    chat::SendMessage::Request req;
    req.tenant_id = tenant;
    req.room_id = room;
    req.sender_id = sender;
    req.body = std::string(body);
    req.meta_json = "{}";
    req.search_tokens = search::index_tokens(body);
    auto r = co_await db.run<chat::SendMessage>(std::move(req));
    co_return r.value().message.id;
}

std::vector<std::int64_t> ids_of(const std::vector<VectorHit>& hits) {
    std::vector<std::int64_t> out;
    out.reserve(hits.size());
    for (const auto& h : hits) out.push_back(h.message_id);
    return out;
}

// A tenant with messages from before the index existed: the first use re-embeds them from the
// database; later messages arrive through the outbox consumer.
CO_TEST(VectorService, CatchesUpFromTheDatabaseThenConsumesEvents) {
    pg::Pool pool(ctx.io, ::msg::testing::test_pool_options(4));
    data::Executor db(pool);
    const std::string tenant = ::msg::testing::unique_tenant();
    auto users = co_await ::msg::testing::create_tenant_with_users(pool, tenant, 2);
    chat::CreateRoom::Request room_req{tenant, users[0], "ops", "group", {users[1]}};
    auto room = co_await db.run<chat::CreateRoom>(std::move(room_req));
    CO_ASSERT(room.has_value());
    const auto deploy = co_await send(db, tenant, room->id, users[0], "서버에서 배포를 시작합니다");
    co_await send(db, tenant, room->id, users[1], "점심 메뉴는 뭐예요");

    ::msg::testing::TempDir dir;
    core::BlockingPool blocking(1);
    HashedNgramEmbedder embedder(64, &blocking);
    HnswIndex index(blocking, {dir.path, 64});
    co_await index.ensure();
    VectorService service(db, embedder, index);

    const SearchFilter any;
    const std::string query = "서버 배포";
    auto hits = co_await service.search(tenant, query, any, 1);
    EXPECT_EQ(ids_of(hits), std::vector<std::int64_t>{deploy});

    const auto later = co_await send(db, tenant, room->id, users[1], "배포 완료, 서버 정상");
    queue::Event event;
    event.id = 1;
    event.tenant_id = tenant;
    event.topic = "message.created";
    event.payload = boost::json::serialize(boost::json::object{
        {"id", later}, {"room_id", room->id}, {"body", "배포 완료, 서버 정상"}});
    co_await service.on_message_created(event);
    co_await service.on_message_created(event);  // at least once: a repeat changes nothing
    SearchFilter only_later;
    only_later.message_ids = {later};
    auto found = co_await service.search(tenant, query, only_later, 5);
    EXPECT_EQ(ids_of(found), std::vector<std::int64_t>{later});
    auto all = co_await service.search(tenant, query, any, 10);
    EXPECT_EQ(all.size(), 3u);

    // A payload that can never be indexed is dropped, not retried forever.
    event.payload = "{\"id\": \"nope\"}";
    co_await service.on_message_created(event);
    blocking.stop();
}

}  // namespace
}  // namespace msg::vector
