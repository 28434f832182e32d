// One contract, two VectorIndex implementations: HnswIndex (local files) and MilvusIndex
// (against MilvusFake over real HTTP, since Milvus cannot run here).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/blocking.hpp"
#include "core/error.hpp"
#include "testing/co_test.hpp"
#include "testing/temp_dir.hpp"
#include "transport/http_client.hpp"
#include "vector/embedder.hpp"
#include "vector/hnsw_index.hpp"
#include "vector/milvus_fake.hpp"
#include "vector/milvus_index.hpp"

namespace msg::vector {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kDim = 64;

Vector v(std::string_view text) { return HashedNgramEmbedder(kDim).embed_one(text); }

std::vector<std::int64_t> ids_of(const std::vector<VectorHit>& hits) {
    std::vector<std::int64_t> out;
    out.reserve(hits.size());
    for (const auto& h : hits) out.push_back(h.message_id);
    return out;
}

/// The behaviour both backends promise.
core::Task<void> contract(VectorIndex& index) {
    co_await index.ensure();
    co_await index.ensure();                               // idempotent
    const std::string a = "tenant-a", b = "te\"n\\ant b";  // b needs escaping in Milvus filters
    const std::vector<VectorItem> items_a{{1, 10, v("서버에서 배포를 시작합니다")},
                                          {2, 10, v("점심 메뉴는 뭐예요")},
                                          {3, 20, v("배포 서버 점검 공지")}};
    co_await index.upsert(a, items_a);
    const std::vector<VectorItem> items_b{{1, 99, v("서버에서 배포를 시작합니다")}};
    co_await index.upsert(b, items_b);

    const SearchFilter any;
    const auto query = v("서버 배포");
    auto top = co_await index.search(a, query, any, 3);
    CO_ASSERT(top.size() == 3);
    EXPECT_NE(top[0].message_id, 2);  // the lunch message is the farthest
    EXPECT_EQ(top[2].message_id, 2);
    EXPECT_GE(top[0].score, top[1].score);
    EXPECT_GE(top[1].score, top[2].score);
    auto exact = co_await index.search(a, items_a[0].vector, any, 1);
    CO_ASSERT(exact.size() == 1);
    EXPECT_EQ(exact[0].message_id, 1);
    EXPECT_EQ(exact[0].room_id, 10);
    EXPECT_NEAR(exact[0].score, 1.0f, 1e-4);

    SearchFilter room20;
    room20.room_ids = {20};
    auto in_room20 = co_await index.search(a, query, room20, 10);
    EXPECT_EQ(ids_of(in_room20), std::vector<std::int64_t>{3});
    SearchFilter some;
    some.message_ids = {2, 3, 777};  // 777 does not exist: ignored
    auto scored = co_await index.search(a, query, some, 10);
    EXPECT_EQ(ids_of(scored), (std::vector<std::int64_t>{3, 2}));

    // Tenants never see each other, even with the same message id.
    auto theirs = co_await index.search(b, query, any, 10);
    CO_ASSERT(theirs.size() == 1);
    EXPECT_EQ(theirs[0].room_id, 99);

    // Upsert replaces (no duplicate), including the room.
    const std::vector<VectorItem> moved{{1, 30, v("완전히 다른 내용")}};
    co_await index.upsert(a, moved);
    auto after = co_await index.search(a, query, any, 10);
    EXPECT_EQ(after.size(), 3u);
    SearchFilter room30;
    room30.room_ids = {30};
    auto in_room30 = co_await index.search(a, query, room30, 10);
    EXPECT_EQ(ids_of(in_room30), std::vector<std::int64_t>{1});

    // Remove; unknown ids are fine; the other tenant's id 1 stays.
    const std::vector<std::int64_t> gone{1, 4242};
    co_await index.remove(a, gone);
    auto left = co_await index.search(a, query, any, 10);
    EXPECT_EQ(ids_of(left), (std::vector<std::int64_t>{3, 2}));
    auto still_theirs = co_await index.search(b, query, any, 10);
    EXPECT_EQ(still_theirs.size(), 1u);
    auto none = co_await index.search(a, query, any, 0);
    EXPECT_TRUE(none.empty());
}

CO_TEST(VectorIndexContract, Hnsw) {
    ::msg::testing::TempDir dir;
    core::BlockingPool blocking(2);
    HnswIndex index(blocking, {dir.path, kDim, 2});  // capacity 2: growth is exercised
    co_await contract(index);
    blocking.stop();
}

CO_TEST(VectorIndexContract, MilvusAgainstTheFake) {
    testing::MilvusFake fake(ctx.io);
    transport::BeastHttpClient http;
    MilvusIndex index(http, {fake.endpoint(), "", "messages", kDim});
    co_await contract(index);
    // Created with its index and loaded once; later ensures only check and load.
    const auto calls = fake.calls();
    EXPECT_EQ(std::count(calls.begin(), calls.end(), "collections/create"), 1);
    EXPECT_EQ(std::count(calls.begin(), calls.end(), "collections/load"), 2);
}

CO_TEST(MilvusIndex, BusinessErrorsAndAuthAreErrors) {
    testing::MilvusFake fake(ctx.io, "root:Milvus");
    transport::BeastHttpClient http;
    MilvusIndex anonymous(http, {fake.endpoint(), "", "messages", kDim});
    bool refused = false;
    try {
        co_await anonymous.ensure();  // HTTP 200, code 1800
    } catch (const core::UnavailableException&) {
        refused = true;
    }
    EXPECT_TRUE(refused);

    MilvusIndex index(http, {fake.endpoint(), "root:Milvus", "messages", kDim});
    co_await index.ensure();
    fake.fail_next(65535, "rate limit exceeded");
    bool failed = false;
    const std::string t = "t";
    try {
        const std::vector<VectorItem> items{{1, 1, v("x")}};
        co_await index.upsert(t, items);
    } catch (const core::UnavailableException& e) {
        failed = std::string(e.what()).find("65535") != std::string::npos;
    }
    EXPECT_TRUE(failed);
    EXPECT_EQ(fake.entity_count(), 0u);
    const auto missing = co_await index.missing_since(t);
    EXPECT_FALSE(missing.has_value());  // durable: no catch-up

    // Nobody listening.
    MilvusIndex down(http, {"http://127.0.0.1:1", "", "messages", kDim});
    bool unavailable = false;
    try {
        co_await down.ensure();
    } catch (const core::UnavailableException&) {
        unavailable = true;
    }
    EXPECT_TRUE(unavailable);
}

// Enough points for upper HNSW layers, growth from a tiny capacity, updates and deletions
// (ASan found an out-of-bounds read in hnswlib's SSE path at this size, not at three points).
CO_TEST(HnswIndex, ManyPointsGrowUpdateAndStayFindable) {
    ::msg::testing::TempDir dir;
    core::BlockingPool blocking(2);
    HnswIndex index(blocking, {dir.path, kDim, 4});
    const std::string t = "many";
    std::vector<VectorItem> batch;
    for (std::int64_t i = 1; i <= 3000; ++i) {
        batch.push_back(
            {i, i % 7,
             v("메시지 번호 " + std::to_string(i) + " 배포 " + std::to_string(i * 7919 % 1000))});
        if (batch.size() == 250) {
            co_await index.upsert(t, batch);
            batch.clear();
        }
    }
    std::vector<VectorItem> updates;
    for (std::int64_t i = 1; i <= 500; ++i)
        updates.push_back({i, 100, v("갱신 " + std::to_string(i))});
    co_await index.upsert(t, updates);
    std::vector<std::int64_t> gone;
    for (std::int64_t i = 2901; i <= 3000; ++i) gone.push_back(i);
    co_await index.remove(t, gone);

    const SearchFilter any;
    int found_self = 0;
    for (std::int64_t i = 1; i <= 500; i += 25) {  // updated points: their new vector
        const auto query = v("갱신 " + std::to_string(i));
        auto hits = co_await index.search(t, query, any, 1);
        if (!hits.empty() && hits[0].message_id == i && hits[0].room_id == 100) ++found_self;
    }
    EXPECT_EQ(found_self, 20);
    SearchFilter deleted;
    deleted.message_ids = gone;
    auto none = co_await index.search(t, v("메시지"), deleted, 10);
    EXPECT_TRUE(none.empty());
    SearchFilter room3;
    room3.room_ids = {3};
    auto in_room = co_await index.search(t, v("메시지 번호 배포"), room3, 50);
    EXPECT_EQ(in_room.size(), 50u);
    for (const auto& h : in_room) EXPECT_EQ(h.room_id, 3);
    blocking.stop();
}

TEST(MilvusIndex, FiltersQuoteTheirStrings) {
    EXPECT_EQ(MilvusIndex::quote(R"(a"b\c)"), R"("a\"b\\c")");
    SearchFilter f;
    f.room_ids = {1, 2};
    f.message_ids = {7};
    EXPECT_EQ(MilvusIndex::filter_expression("t\"x", f),
              R"(tenant_id == "t\"x" and room_id in [1, 2] and message_id in [7])");
}

CO_TEST(HnswIndex, PersistsAndRebuildsWhenCorrupt) {
    ::msg::testing::TempDir dir;
    core::BlockingPool blocking(1);
    HnswIndex index(blocking, {dir.path, kDim, 16, 0});
    co_await index.ensure();
    const std::string t = "t";
    const std::optional<std::int64_t> all = 0;
    auto first = co_await index.missing_since(t);
    EXPECT_EQ(first, all);  // a new tenant: everything
    auto second = co_await index.missing_since(t);
    EXPECT_EQ(second, std::nullopt);  // asked once per load
    const std::vector<VectorItem> items{{5, 1, v("hello world")}, {9, 2, v("bye")}};
    co_await index.upsert(t, items);
    const std::vector<std::int64_t> gone{9};
    co_await index.remove(t, gone);
    auto written = co_await index.flush();
    EXPECT_EQ(written, 1u);
    auto unchanged = co_await index.flush();
    EXPECT_EQ(unchanged, 0u);

    index.forget_loaded();
    auto reloaded = co_await index.missing_since(t);
    EXPECT_EQ(reloaded, std::optional<std::int64_t>(9));  // the saved maximum id (slack 0)
    const SearchFilter any;
    const auto hello = v("hello world");
    auto hits = co_await index.search(t, hello, any, 10);
    EXPECT_EQ(ids_of(hits), std::vector<std::int64_t>{5});  // the deletion survived too

    // Flip bytes in the graph file: the checksum refuses it and the tenant starts over.
    index.forget_loaded();
    fs::path graph;
    for (const auto& entry : fs::directory_iterator(dir.path)) {
        if (entry.path().extension() == ".hnsw") graph = entry.path();
    }
    CO_ASSERT(!graph.empty());
    {
        std::fstream f(graph, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(fs::file_size(graph) / 2));
        f.write("\xff\xff\xff\xff", 4);
    }
    auto corrupt = co_await index.missing_since(t);
    EXPECT_EQ(corrupt, all);
    auto empty = co_await index.search(t, hello, any, 10);
    EXPECT_TRUE(empty.empty());
    blocking.stop();
}

}  // namespace
}  // namespace msg::vector
