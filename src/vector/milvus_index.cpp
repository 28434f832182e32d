#include "vector/milvus_index.hpp"

#include <boost/json.hpp>

#include "core/error.hpp"

namespace msg::vector {

namespace json = boost::json;

namespace {

std::string join_ids(const std::vector<std::int64_t>& ids) {
    std::string out = "[";
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i) out += ", ";
        out += std::to_string(ids[i]);
    }
    return out + "]";
}

json::array floats(const Vector& v) {
    json::array a;
    a.reserve(v.size());
    for (float x : v) a.emplace_back(static_cast<double>(x));
    return a;
}

}  // namespace

MilvusIndex::MilvusIndex(core::HttpClient& http, Options options)
    : http_(http), options_(std::move(options)) {
    while (!options_.endpoint.empty() && options_.endpoint.back() == '/') {
        options_.endpoint.pop_back();
    }
}

std::string MilvusIndex::quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '\\' || c == '"') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string MilvusIndex::filter_expression(const std::string& tenant_id, const SearchFilter& f) {
    std::string out = "tenant_id == " + quote(tenant_id);
    if (!f.room_ids.empty()) out += " and room_id in " + join_ids(f.room_ids);
    if (!f.message_ids.empty()) out += " and message_id in " + join_ids(f.message_ids);
    return out;
}

core::Task<std::string> MilvusIndex::call(std::string_view path, const std::string& body) {
    core::ClientRequest req;
    req.url = options_.endpoint + "/v2/vectordb/" + std::string(path);
    req.body = body;
    if (!options_.token.empty())
        req.headers.emplace_back("Authorization", "Bearer " + options_.token);
    auto res = co_await http_.send(req);
    if (res.status != 200) {
        throw core::UnavailableException("milvus " + std::string(path) + " answered HTTP " +
                                         std::to_string(res.status));
    }
    json::value parsed;
    try {
        parsed = json::parse(res.body);
    } catch (const std::exception&) {
        throw core::UnavailableException("milvus " + std::string(path) + ": not JSON");
    }
    const auto* obj = parsed.if_object();
    const auto* code = obj ? obj->if_contains("code") : nullptr;
    if (!code || !code->is_int64()) {
        throw core::UnavailableException("milvus " + std::string(path) + ": no code");
    }
    if (code->as_int64() != 0) {  // a business error arrives with HTTP 200
        std::string message;
        if (const auto* m = obj->if_contains("message"); m && m->is_string()) {
            message = std::string(m->as_string());
        }
        throw core::UnavailableException("milvus " + std::string(path) + " code " +
                                         std::to_string(code->as_int64()) + ": " + message);
    }
    const auto* data = obj->if_contains("data");
    co_return data ? json::serialize(*data) : std::string("null");
}

core::Task<void> MilvusIndex::ensure() {
    const std::string name = json::serialize(json::object{{"collectionName", options_.collection}});
    const std::string has_text = co_await call("collections/has", name);
    const auto has = json::parse(has_text);
    const auto* flag = has.is_object() ? has.as_object().if_contains("has") : nullptr;
    if (!flag || !flag->is_bool()) throw core::UnavailableException("milvus has: no data.has");
    if (!flag->as_bool()) {
        auto field = [](std::string_view n, std::string_view type) {
            return json::object{{"fieldName", n}, {"dataType", type}};
        };
        json::object pk = field("pk", "VarChar");
        pk["isPrimary"] = true;
        pk["elementTypeParams"] = json::object{{"max_length", 192}};
        json::object tenant = field("tenant_id", "VarChar");
        tenant["elementTypeParams"] = json::object{{"max_length", 128}};
        json::object vec = field("vector", "FloatVector");
        vec["elementTypeParams"] = json::object{{"dim", options_.dimension}};
        const json::object create{
            {"collectionName", options_.collection},
            {"schema", json::object{{"autoId", false},
                                    {"enableDynamicField", false},
                                    {"fields", json::array{pk, tenant, field("message_id", "Int64"),
                                                           field("room_id", "Int64"), vec}}}},
            {"indexParams",
             json::array{json::object{{"fieldName", "vector"},
                                      {"indexName", "vector"},
                                      {"metricType", "COSINE"},
                                      {"params", json::object{{"index_type", "AUTOINDEX"}}}}}}};
        const std::string create_body = json::serialize(create);
        co_await call("collections/create", create_body);
    }
    co_await call("collections/load", name);
}

core::Task<void> MilvusIndex::upsert(const std::string& tenant_id,
                                     const std::vector<VectorItem>& items) {
    if (items.empty()) co_return;
    json::array data;
    for (const auto& item : items) {
        if (item.vector.size() != options_.dimension) {
            throw std::invalid_argument("vector dimension does not match the collection");
        }
        data.push_back(json::object{{"pk", tenant_id + "/" + std::to_string(item.message_id)},
                                    {"tenant_id", tenant_id},
                                    {"message_id", item.message_id},
                                    {"room_id", item.room_id},
                                    {"vector", floats(item.vector)}});
    }
    const std::string body = json::serialize(
        json::object{{"collectionName", options_.collection}, {"data", std::move(data)}});
    co_await call("entities/upsert", body);
}

core::Task<void> MilvusIndex::remove(const std::string& tenant_id,
                                     const std::vector<std::int64_t>& message_ids) {
    if (message_ids.empty()) co_return;
    SearchFilter f;
    f.message_ids = message_ids;
    const std::string body = json::serialize(json::object{
        {"collectionName", options_.collection}, {"filter", filter_expression(tenant_id, f)}});
    co_await call("entities/delete", body);
}

core::Task<std::vector<VectorHit>> MilvusIndex::search(const std::string& tenant_id,
                                                       const Vector& query,
                                                       const SearchFilter& filter, int k) {
    std::vector<VectorHit> hits;
    if (k <= 0) co_return hits;
    const std::string body =
        json::serialize(json::object{{"collectionName", options_.collection},
                                     {"data", json::array{floats(query)}},
                                     {"annsField", "vector"},
                                     {"limit", k},
                                     {"filter", filter_expression(tenant_id, filter)},
                                     {"outputFields", json::array{"message_id", "room_id"}}});
    const std::string text = co_await call("entities/search", body);
    const auto data = json::parse(text);
    if (!data.is_array()) throw core::UnavailableException("milvus search: data is not a list");
    try {
        for (const auto& row : data.as_array()) {
            const auto& o = row.as_object();
            hits.push_back({o.at("message_id").to_number<std::int64_t>(),
                            o.at("room_id").to_number<std::int64_t>(),
                            static_cast<float>(o.at("distance").to_number<double>())});
        }
    } catch (const std::exception& e) {
        throw core::UnavailableException(std::string("milvus search: bad hit: ") + e.what());
    }
    co_return hits;
}

core::Task<std::optional<std::int64_t>> MilvusIndex::missing_since(const std::string&) {
    co_return std::nullopt;
}

}  // namespace msg::vector
