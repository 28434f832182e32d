#include "vector/milvus_fake.hpp"

#include <boost/json.hpp>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>

#include "core/http.hpp"
#include "testing/loopback_server.hpp"

namespace msg::vector::testing {

namespace json = boost::json;

namespace {

struct Clause {
    std::string field;
    std::optional<std::string> equals;            // field == "…"
    std::optional<std::vector<std::int64_t>> in;  // field in [...]
};

/// Parses the filter subset MilvusIndex emits; throws on anything else.
std::vector<Clause> parse_filter(std::string_view f) {
    std::vector<Clause> out;
    std::size_t i = 0;
    auto skip = [&] {
        while (i < f.size() && f[i] == ' ') ++i;
    };
    auto ident = [&] {
        skip();
        const std::size_t start = i;
        while (i < f.size() && (std::isalnum(static_cast<unsigned char>(f[i])) || f[i] == '_')) ++i;
        if (start == i) throw std::runtime_error("identifier expected");
        return std::string(f.substr(start, i - start));
    };
    for (;;) {
        Clause c;
        c.field = ident();
        skip();
        if (f.substr(i, 2) == "==") {
            i += 2;
            skip();
            if (i >= f.size() || f[i] != '"') throw std::runtime_error("string expected");
            ++i;
            std::string value;
            while (i < f.size() && f[i] != '"') {
                if (f[i] == '\\') {
                    if (++i >= f.size()) throw std::runtime_error("bad escape");
                }
                value += f[i++];
            }
            if (i >= f.size()) throw std::runtime_error("unterminated string");
            ++i;
            c.equals = std::move(value);
        } else if (f.substr(i, 2) == "in") {
            i += 2;
            skip();
            if (i >= f.size() || f[i] != '[') throw std::runtime_error("[ expected");
            ++i;
            std::vector<std::int64_t> values;
            for (;;) {
                skip();
                const std::size_t start = i;
                if (i < f.size() && f[i] == '-') ++i;
                while (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i]))) ++i;
                if (start == i) throw std::runtime_error("integer expected");
                values.push_back(std::stoll(std::string(f.substr(start, i - start))));
                skip();
                if (i < f.size() && f[i] == ',') {
                    ++i;
                    continue;
                }
                if (i < f.size() && f[i] == ']') {
                    ++i;
                    break;
                }
                throw std::runtime_error("] expected");
            }
            c.in = std::move(values);
        } else {
            throw std::runtime_error("operator expected");
        }
        out.push_back(std::move(c));
        skip();
        if (i == f.size()) return out;
        if (f.substr(i, 4) != "and ") throw std::runtime_error("and expected");
        i += 4;
    }
}

}  // namespace

struct MilvusFake::State {
    struct Collection {
        std::size_t dim = 0;
        std::map<std::string, std::string> field_types;  // name → dataType
        std::string primary;
        bool loaded = false;
        std::map<std::string, json::object> entities;  // by primary key
    };

    std::string token;
    mutable std::mutex mutex;
    std::map<std::string, Collection> collections;
    std::vector<std::string> calls;
    std::optional<std::pair<int, std::string>> fail_next;

    std::unique_ptr<::msg::testing::LoopbackServer> server;

    static core::HttpResponse answer(const json::object& body) {
        return core::json_response(200, body);
    }
    static core::HttpResponse error(int code, std::string_view message) {
        return answer(json::object{{"code", code}, {"message", message}});
    }
    static core::HttpResponse ok(json::value data) {
        return answer(json::object{{"code", 0}, {"data", std::move(data)}});
    }

    bool matches(const Collection& c, const json::object& e, const std::vector<Clause>& filter) {
        for (const auto& clause : filter) {
            if (!c.field_types.contains(clause.field)) throw std::runtime_error("unknown field");
            const auto* v = e.if_contains(clause.field);
            if (!v) return false;
            if (clause.equals && (!v->is_string() || v->as_string() != *clause.equals)) {
                return false;
            }
            if (clause.in) {
                if (!v->is_int64()) return false;
                const auto x = v->as_int64();
                if (std::find(clause.in->begin(), clause.in->end(), x) == clause.in->end()) {
                    return false;
                }
            }
        }
        return true;
    }

    core::HttpResponse handle(std::string_view op, const core::HttpRequest& req) {
        std::lock_guard lock(mutex);
        calls.emplace_back(op);
        if (!token.empty() && req.authorization != "Bearer " + token) {
            return error(1800, "user hasn't authenticated");
        }
        if (fail_next) {
            auto [code, message] = *fail_next;
            fail_next.reset();
            return error(code, message);
        }
        json::object body;
        try {
            body = json::parse(req.body).as_object();
        } catch (const std::exception&) {
            return error(1801, "can only accept json format request");
        }
        const auto* name = body.if_contains("collectionName");
        if (!name || !name->is_string()) return error(1802, "missing required parameters");
        const std::string collection(name->as_string());
        try {
            if (op == "collections/has") {
                return ok(json::object{{"has", collections.contains(collection)}});
            }
            if (op == "collections/create") return create(collection, body);
            auto it = collections.find(collection);
            if (it == collections.end()) return error(100, "collection not found");
            Collection& c = it->second;
            if (op == "collections/load") {
                c.loaded = true;
                return ok(json::object{});
            }
            if (op == "entities/upsert") return upsert(c, body);
            if (op == "entities/delete") {
                const auto filter = parse_filter(body.at("filter").as_string());
                std::erase_if(c.entities,
                              [&](const auto& kv) { return matches(c, kv.second, filter); });
                return ok(json::object{});
            }
            if (op == "entities/search") return search(c, body);
        } catch (const std::exception& e) {
            return error(1100, std::string("invalid parameter: ") + e.what());
        }
        return error(1100, "unknown operation");
    }

    core::HttpResponse create(const std::string& name, const json::object& body) {
        if (collections.contains(name)) return error(65535, "collection already exists");
        Collection c;
        for (const auto& f : body.at("schema").at("fields").as_array()) {
            const auto& field = f.as_object();
            const std::string fname(field.at("fieldName").as_string());
            const std::string type(field.at("dataType").as_string());
            c.field_types[fname] = type;
            if (const auto* p = field.if_contains("isPrimary"); p && p->as_bool())
                c.primary = fname;
            if (type == "FloatVector") {
                c.dim = static_cast<std::size_t>(
                    field.at("elementTypeParams").at("dim").to_number<std::int64_t>());
            }
        }
        if (c.primary.empty() || c.dim == 0)
            return error(1100, "schema needs a primary key and a vector");
        bool indexed = false;
        if (const auto* ip = body.if_contains("indexParams")) {
            for (const auto& p : ip->as_array()) {
                if (p.at("fieldName").as_string() == "vector" &&
                    p.at("metricType").as_string() == "COSINE") {
                    indexed = true;
                }
            }
        }
        if (!indexed) return error(1100, "the fake expects a COSINE index on the vector field");
        collections.emplace(name, std::move(c));
        return ok(json::object{});
    }

    core::HttpResponse upsert(Collection& c, const json::object& body) {
        const auto& data = body.at("data").as_array();
        for (const auto& item : data) {
            const auto& e = item.as_object();
            if (e.size() != c.field_types.size())
                return error(1100, "entity fields do not match the schema");
            for (const auto& [fname, type] : c.field_types) {
                const auto& v = e.at(fname);
                if ((type == "VarChar" && !v.is_string()) || (type == "Int64" && !v.is_int64()) ||
                    (type == "FloatVector" && (!v.is_array() || v.as_array().size() != c.dim))) {
                    return error(1100, "field " + fname + " has the wrong type");
                }
            }
            c.entities[std::string(e.at(c.primary).as_string())] = e;
        }
        return ok(json::object{{"upsertCount", data.size()}});
    }

    core::HttpResponse search(Collection& c, const json::object& body) {
        if (!c.loaded) return error(101, "collection not loaded");
        const auto* data = body.if_contains("data");
        if (!data || !data->is_array() || data->as_array().size() != 1) {
            return error(1100, "data must hold the query vectors");
        }
        const auto& q = data->as_array()[0].as_array();
        if (q.size() != c.dim) return error(1100, "query vector dimension mismatch");
        const auto limit = body.at("limit").to_number<std::int64_t>();
        std::vector<Clause> filter;
        if (const auto* f = body.if_contains("filter"); f && !f->as_string().empty()) {
            filter = parse_filter(f->as_string());
        }
        std::vector<std::pair<double, const json::object*>> scored;
        for (const auto& [pk, e] : c.entities) {
            if (!matches(c, e, filter)) continue;
            const auto& v = e.at("vector").as_array();
            double dot = 0, nq = 0, nv = 0;
            for (std::size_t i = 0; i < c.dim; ++i) {
                const double a = q[i].to_number<double>(), b = v[i].to_number<double>();
                dot += a * b;
                nq += a * a;
                nv += b * b;
            }
            const double cosine = (nq == 0 || nv == 0) ? 0 : dot / std::sqrt(nq * nv);
            scored.emplace_back(cosine, &e);
        }
        std::sort(scored.begin(), scored.end(),
                  [](const auto& a, const auto& b) { return a.first > b.first; });
        json::array hits;
        for (std::size_t i = 0; i < scored.size() && static_cast<std::int64_t>(i) < limit; ++i) {
            const auto& e = *scored[i].second;
            json::object hit{{"distance", scored[i].first}, {c.primary, e.at(c.primary)}};
            if (const auto* fields = body.if_contains("outputFields")) {
                for (const auto& f : fields->as_array()) hit[f.as_string()] = e.at(f.as_string());
            }
            hits.push_back(std::move(hit));
        }
        return ok(std::move(hits));
    }
};

namespace {

core::Task<core::Result<core::HttpResponse>> serve(std::weak_ptr<MilvusFake::State> weak,
                                                   std::string op, core::HttpRequest& req) {
    auto s = weak.lock();
    if (!s) co_return MilvusFake::State::error(1, "gone");
    co_return s->handle(op, req);
}

}  // namespace

MilvusFake::MilvusFake(boost::asio::io_context& io, std::string token)
    : state_(std::make_shared<State>()) {
    state_->token = std::move(token);
    std::vector<core::Route> routes;
    for (std::string_view op : {"collections/has", "collections/create", "collections/load",
                                "entities/upsert", "entities/delete", "entities/search"}) {
        std::weak_ptr<State> weak = state_;
        const std::string name(op);
        routes.push_back(
            core::Route{core::Method::post, "/v2/vectordb/" + name, core::Access::open,
                        // Not a coroutine lambda (GCC 12): it hands its captures to one by value.
                        [weak, name](core::HttpRequest& req) { return serve(weak, name, req); }});
    }
    state_->server = std::make_unique<::msg::testing::LoopbackServer>(io, std::move(routes));
}

MilvusFake::~MilvusFake() = default;

std::string MilvusFake::endpoint() const { return state_->server->base_url(); }

std::vector<std::string> MilvusFake::calls() const {
    std::lock_guard lock(state_->mutex);
    return state_->calls;
}

void MilvusFake::fail_next(int code, std::string message) {
    std::lock_guard lock(state_->mutex);
    state_->fail_next = std::make_pair(code, std::move(message));
}

std::size_t MilvusFake::entity_count() const {
    std::lock_guard lock(state_->mutex);
    std::size_t n = 0;
    for (const auto& [name, c] : state_->collections) n += c.entities.size();
    return n;
}

}  // namespace msg::vector::testing
