#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http.hpp"

namespace msg::transport {

/// Matches a method + path against the route tables of the mounted modules. Pure: no I/O.
class Router {
  public:
    void add(core::Route route);
    void add(std::vector<core::Route> routes);

    enum class Outcome { found, not_found, method_not_allowed };
    struct Match {
        Outcome outcome = Outcome::not_found;
        const core::Route* route = nullptr;
        std::vector<std::pair<std::string, std::string>> params;
    };
    /// Literal segments win over `:param` segments, so `/rooms/unread-counts` beats
    /// `/rooms/:id`. A path matched only under another method → method_not_allowed. HEAD
    /// matches GET routes.
    Match match(core::Method method, std::string_view path) const;

    const std::vector<core::Route>& routes() const { return routes_; }

  private:
    struct Compiled {
        std::vector<std::string> segments;
        int literals = 0;
    };
    std::vector<core::Route> routes_;
    std::vector<Compiled> compiled_;
};

}  // namespace msg::transport
