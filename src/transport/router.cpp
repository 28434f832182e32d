#include "transport/router.hpp"

#include <cassert>
#include <stdexcept>

namespace msg::transport {

namespace {
std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < path.size()) {
        if (path[i] == '/') {
            ++i;
            continue;
        }
        auto next = path.find('/', i);
        if (next == std::string_view::npos) next = path.size();
        out.push_back(path.substr(i, next - i));
        i = next;
    }
    return out;
}
}  // namespace

void Router::add(core::Route route) {
    if (route.pattern.empty() || route.pattern[0] != '/') {
        throw std::invalid_argument("route pattern must start with /: " + route.pattern);
    }
    Compiled c;
    for (auto seg : split_path(route.pattern)) {
        c.segments.emplace_back(seg);
        if (seg[0] != ':') ++c.literals;
    }
    routes_.push_back(std::move(route));
    compiled_.push_back(std::move(c));
}

void Router::add(std::vector<core::Route> routes) {
    for (auto& r : routes) add(std::move(r));
}

Router::Match Router::match(core::Method method, std::string_view path) const {
    // HEAD is GET without a body (the server drops the body when it writes the response).
    if (method == core::Method::head) method = core::Method::get;
    const auto segments = split_path(path);
    Match best;
    int best_literals = -1;
    bool path_known = false;
    for (std::size_t i = 0; i < routes_.size(); ++i) {
        const Compiled& c = compiled_[i];
        if (c.segments.size() != segments.size()) continue;
        bool ok = true;
        for (std::size_t s = 0; s < segments.size() && ok; ++s) {
            ok = c.segments[s][0] == ':' || c.segments[s] == segments[s];
        }
        if (!ok) continue;
        path_known = true;
        if (routes_[i].method != method || c.literals <= best_literals) continue;
        best_literals = c.literals;
        best.outcome = Outcome::found;
        best.route = &routes_[i];
        best.params.clear();
        for (std::size_t s = 0; s < segments.size(); ++s) {
            if (c.segments[s][0] == ':') {
                best.params.emplace_back(c.segments[s].substr(1), std::string(segments[s]));
            }
        }
    }
    if (best.outcome != Outcome::found && path_known) best.outcome = Outcome::method_not_allowed;
    return best;
}

}  // namespace msg::transport
