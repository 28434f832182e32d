#include "vector/hnsw_index.hpp"

// hnswlib 0.6.2's SSE path prefetches one entry past the end of a link list (an out-of-bounds
// read ASan reports in addPoint); the portable path does not, and the compiler vectorises its
// distance loops anyway.
#define NO_MANUAL_VECTORIZATION
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <shared_mutex>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include "core/base64url.hpp"
#include "core/files.hpp"
#include "core/log.hpp"

namespace msg::vector {

namespace fs = std::filesystem;

struct HnswIndex::Tenant {
    std::shared_mutex lock;
    std::unique_ptr<hnswlib::InnerProductSpace> space;
    std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
    std::unordered_map<std::int64_t, std::int64_t> rooms;  // live message id → room id
    std::int64_t max_id = 0;
    bool dirty = false;
    std::optional<std::int64_t> missing;
    bool missing_reported = false;
};

namespace {

constexpr char kMagic[4] = {'M', 'S', 'G', 'V'};
constexpr std::uint32_t kFormat = 1;

std::uint64_t file_checksum(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::uint64_t h = 14695981039346656037ull;
    char buffer[1 << 16];
    while (in) {
        in.read(buffer, sizeof buffer);
        for (std::streamsize i = 0; i < in.gcount(); ++i) {
            h ^= static_cast<unsigned char>(buffer[i]);
            h *= 1099511628211ull;
        }
    }
    return h;
}

template <class T>
void put(std::ostream& out, const T& v) {
    out.write(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T>
T get(std::ifstream& in) {
    T v{};
    in.read(reinterpret_cast<char*>(&v), sizeof v);
    if (!in) throw std::runtime_error("meta file is truncated");
    return v;
}

void make_empty(HnswIndex::Tenant& t, std::size_t dimension, std::size_t capacity) {
    t.space = std::make_unique<hnswlib::InnerProductSpace>(dimension);
    t.graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(t.space.get(), capacity);
    t.rooms.clear();
    t.max_id = 0;
}

/// Loads graph + meta; throws on anything missing, mismatched or corrupt.
void load(HnswIndex::Tenant& t, const fs::path& graph, const fs::path& meta,
          std::size_t dimension) {
    std::ifstream in(meta, std::ios::binary);
    if (!in) throw std::runtime_error("no meta file");
    char magic[4];
    in.read(magic, 4);
    if (!in || std::memcmp(magic, kMagic, 4) != 0) throw std::runtime_error("bad magic");
    if (get<std::uint32_t>(in) != kFormat) throw std::runtime_error("unknown format");
    if (get<std::uint64_t>(in) != dimension) throw std::runtime_error("dimension changed");
    const auto max_id = get<std::int64_t>(in);
    const auto checksum = get<std::uint64_t>(in);
    const auto count = get<std::uint64_t>(in);
    if (!fs::exists(graph) || file_checksum(graph) != checksum) {
        throw std::runtime_error("graph file missing or checksum mismatch");
    }
    if (count > fs::file_size(meta) / 16) throw std::runtime_error("meta count too large");
    std::unordered_map<std::int64_t, std::int64_t> rooms;
    rooms.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i) {
        const auto id = get<std::int64_t>(in);
        rooms[id] = get<std::int64_t>(in);
    }
    auto space = std::make_unique<hnswlib::InnerProductSpace>(dimension);
    auto loaded = std::make_unique<hnswlib::HierarchicalNSW<float>>(space.get(), graph.string());
    if (loaded->cur_element_count < rooms.size()) throw std::runtime_error("graph too small");
    t.space = std::move(space);
    t.graph = std::move(loaded);
    t.rooms = std::move(rooms);
    t.max_id = max_id;
}

}  // namespace

HnswIndex::HnswIndex(core::BlockingPool& blocking, Options options)
    : blocking_(blocking), options_(std::move(options)) {}

HnswIndex::~HnswIndex() = default;

core::Task<void> HnswIndex::ensure() {
    fs::create_directories(options_.dir);
    co_return;
}

core::Task<std::shared_ptr<HnswIndex::Tenant>> HnswIndex::tenant(const std::string& tenant_id) {
    {
        std::lock_guard lock(mutex_);
        if (auto it = tenants_.find(tenant_id); it != tenants_.end()) co_return it->second;
    }
    auto t = std::make_shared<Tenant>();
    const fs::path base = options_.dir / core::hex_encode(tenant_id);
    const fs::path graph = fs::path(base).concat(".hnsw");
    const fs::path meta = fs::path(base).concat(".meta");
    co_await blocking_.run([&] {
        try {
            load(*t, graph, meta, options_.dimension);
            t->missing = std::max<std::int64_t>(0, t->max_id - options_.catch_up_slack);
        } catch (const std::exception& e) {
            if (fs::exists(graph) || fs::exists(meta)) {
                core::logger("vector")->warn(
                    "hnsw index unusable, rebuilding tenant={} error=\"{}\"", tenant_id, e.what());
            }
            make_empty(*t, options_.dimension, options_.initial_capacity);
            t->missing = 0;
        }
    });
    std::lock_guard lock(mutex_);
    auto [it, inserted] = tenants_.emplace(tenant_id, t);
    co_return it->second;  // a concurrent loader may have won; use its copy
}

core::Task<std::optional<std::int64_t>> HnswIndex::missing_since(const std::string& tenant_id) {
    auto t = co_await tenant(tenant_id);
    std::unique_lock lock(t->lock);
    if (t->missing_reported) co_return std::nullopt;
    t->missing_reported = true;
    co_return t->missing;
}

core::Task<void> HnswIndex::upsert(const std::string& tenant_id,
                                   const std::vector<VectorItem>& items) {
    for (const auto& item : items) {
        if (item.vector.size() != options_.dimension) {
            throw std::invalid_argument("vector dimension does not match the index");
        }
    }
    auto t = co_await tenant(tenant_id);
    co_await blocking_.run([&] {
        std::unique_lock lock(t->lock);
        auto& g = *t->graph;
        for (const auto& item : items) {
            const auto label = static_cast<hnswlib::labeltype>(item.message_id);
            // A repeat with the same vector (outbox redelivery, catch-up overlapping the
            // consumer) changes nothing in the graph; skipping it also avoids hnswlib's
            // update path.
            if (auto it = g.label_lookup_.find(label);
                it != g.label_lookup_.end() && !g.isMarkedDeleted(it->second)) {
                const auto* stored =
                    reinterpret_cast<const float*>(g.getDataByInternalId(it->second));
                if (std::equal(item.vector.begin(), item.vector.end(), stored)) {
                    t->rooms[item.message_id] = item.room_id;
                    continue;
                }
            }
            if (!t->rooms.contains(item.message_id) && g.cur_element_count >= g.max_elements_ &&
                !g.label_lookup_.contains(label)) {
                g.resizeIndex(std::max<std::size_t>(g.max_elements_ * 2, 16));
            }
            g.addPoint(item.vector.data(), label);
            t->rooms[item.message_id] = item.room_id;
            t->max_id = std::max(t->max_id, item.message_id);
        }
        t->dirty = true;
    });
}

core::Task<void> HnswIndex::remove(const std::string& tenant_id,
                                   const std::vector<std::int64_t>& message_ids) {
    auto t = co_await tenant(tenant_id);
    co_await blocking_.run([&] {
        std::unique_lock lock(t->lock);
        for (auto id : message_ids) {
            if (t->rooms.erase(id) == 0) continue;
            t->graph->markDelete(static_cast<hnswlib::labeltype>(id));
            t->dirty = true;
        }
    });
}

core::Task<std::vector<VectorHit>> HnswIndex::search(const std::string& tenant_id,
                                                     const Vector& query,
                                                     const SearchFilter& filter, int k) {
    std::vector<VectorHit> hits;
    if (k <= 0 || query.size() != options_.dimension) co_return hits;
    auto t = co_await tenant(tenant_id);
    auto work = [&] {
        std::shared_lock lock(t->lock);
        const auto& g = *t->graph;
        auto room_ok = [&](std::int64_t room) {
            return filter.room_ids.empty() ||
                   std::find(filter.room_ids.begin(), filter.room_ids.end(), room) !=
                       filter.room_ids.end();
        };
        if (!filter.message_ids.empty()) {
            // Scoring given messages (the rerank of a result page): exact, from their vectors.
            for (auto id : filter.message_ids) {
                auto it = t->rooms.find(id);
                if (it == t->rooms.end() || !room_ok(it->second)) continue;
                const auto v = g.getDataByLabel<float>(static_cast<hnswlib::labeltype>(id));
                hits.push_back({id, it->second, dot(query, Vector(v.begin(), v.end()))});
            }
        } else {
            // hnswlib 0.6 has no filtered search: widen k until enough pass the room filter.
            const std::size_t live = t->rooms.size();
            std::size_t want =
                std::min(live, std::max<std::size_t>(static_cast<std::size_t>(k) * 4, 64));
            while (want > 0) {
                hits.clear();
                auto found = g.searchKnn(query.data(), want);
                while (!found.empty()) {
                    const auto [distance, label] = found.top();
                    found.pop();
                    const auto id = static_cast<std::int64_t>(label);
                    auto it = t->rooms.find(id);
                    if (it != t->rooms.end() && room_ok(it->second)) {
                        hits.push_back({id, it->second, 1.0f - distance});
                    }
                }
                if (hits.size() >= static_cast<std::size_t>(k) || want >= live) break;
                want = std::min(live, want * 4);
            }
        }
    };
    co_await blocking_.run(work);
    std::sort(hits.begin(), hits.end(), [](const VectorHit& a, const VectorHit& b) {
        return a.score != b.score ? a.score > b.score : a.message_id > b.message_id;
    });
    if (hits.size() > static_cast<std::size_t>(k)) hits.resize(static_cast<std::size_t>(k));
    co_return hits;
}

core::Task<std::size_t> HnswIndex::flush() {
    std::vector<std::pair<std::string, std::shared_ptr<Tenant>>> all;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [id, t] : tenants_) all.emplace_back(id, t);
    }
    std::size_t written = 0;
    co_await blocking_.run([&] {
        for (const auto& [tenant_id, t] : all) {
            std::unique_lock lock(t->lock);
            if (!t->dirty) continue;
            const fs::path base = options_.dir / core::hex_encode(tenant_id);
            const fs::path graph = fs::path(base).concat(".hnsw");
            const fs::path meta = fs::path(base).concat(".meta");
            // One writer per tenant (the lock above): a fixed temp name, so a failed or
            // interrupted save is overwritten by the next one instead of left behind.
            const fs::path graph_tmp = fs::path(graph).concat(".tmp");
            t->graph->saveIndex(graph_tmp.string());
            // Graph first: a crash between the two commits leaves a checksum mismatch → rebuild.
            core::commit_file(graph_tmp, graph);
            std::ostringstream out(std::ios::binary);
            out.write(kMagic, 4);
            put(out, kFormat);
            put(out, static_cast<std::uint64_t>(options_.dimension));
            put(out, t->max_id);
            put(out, file_checksum(graph));
            put(out, static_cast<std::uint64_t>(t->rooms.size()));
            for (const auto& [id, room] : t->rooms) {
                put(out, id);
                put(out, room);
            }
            core::write_file_atomically(meta, out.view());
            t->dirty = false;
            ++written;
        }
    });
    co_return written;
}

void HnswIndex::forget_loaded() {
    std::lock_guard lock(mutex_);
    tenants_.clear();
}

}  // namespace msg::vector
