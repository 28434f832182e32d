#include "data/dbman_client.hpp"

#include <algorithm>
#include <stdexcept>

#include "core/log.hpp"
#include "core/text.hpp"

namespace msg::data {

Endpoints::Endpoints(std::vector<std::string> urls, int fail_threshold,
                     std::chrono::milliseconds cooldown, const core::Clock& clock)
    : urls_(std::move(urls)),
      threshold_(std::max(1, fail_threshold)),
      cooldown_(cooldown),
      clock_(clock),
      state_(urls_.size()) {}

std::vector<std::size_t> Endpoints::order() {
    std::lock_guard lock(mutex_);
    std::vector<std::size_t> out;
    const std::size_t n = urls_.size();
    if (n == 0) return out;
    const std::size_t start = next_++ % n;
    const auto now = clock_.steady_now();
    for (std::size_t k = 0; k < n; ++k) {
        const std::size_t i = (start + k) % n;
        State& s = state_[i];
        if (s.cooling) {
            if (now <= s.cool_until) continue;
            s.cooling = false;  // the cooldown passed: try it again
        }
        out.push_back(i);
    }
    return out;
}

void Endpoints::failed(std::size_t i) {
    std::lock_guard lock(mutex_);
    State& s = state_[i];
    if (++s.failures >= threshold_) {
        s.failures = 0;
        s.cooling = true;
        s.cool_until = clock_.steady_now() + cooldown_;
    }
}

void Endpoints::succeeded(std::size_t i) {
    std::lock_guard lock(mutex_);
    state_[i] = State{};
}

std::size_t Endpoints::cooling() const {
    std::lock_guard lock(mutex_);
    const auto now = clock_.steady_now();
    return static_cast<std::size_t>(
        std::count_if(state_.begin(), state_.end(),
                      [now](const State& s) { return s.cooling && now <= s.cool_until; }));
}

std::vector<std::string> normalize_endpoints(const std::vector<std::string>& raw) {
    std::vector<std::string> out;
    for (const auto& r : raw) {
        std::string e(core::trim(r));
        while (!e.empty() && e.back() == '/') e.pop_back();
        if (e.empty() || std::find(out.begin(), out.end(), e) != out.end()) continue;
        out.push_back(std::move(e));
    }
    return out;
}

DbmanClient::DbmanClient(Options options, const Registry& registry, core::HttpClient& http,
                         const core::Clock& clock)
    : options_(std::move(options)),
      registry_(registry),
      http_(http),
      endpoints_(options_.endpoints, options_.fail_threshold, options_.cooldown, clock) {}

core::Task<core::Result<void>> DbmanClient::call(std::type_index type, std::string_view name,
                                                 const void* request, void* response,
                                                 bool idempotent, bool* resent) {
    const OpEntry* entry = registry_.find(name);
    if (entry == nullptr || entry->type != type) {
        throw std::logic_error("data operation not registered: " + std::string(name));
    }
    ++calls_;
    auto log = core::logger("data");
    core::ClientRequest req;
    req.method = core::Method::post;
    req.body = entry->encode_request(request);
    req.headers.emplace_back("Authorization", "Bearer " + options_.token);
    req.timeout = options_.timeout;
    const std::string path = "/api/internal/v1/db/" + std::string(name);

    std::string last = "every endpoint is cooling down";
    bool ambiguous = false;  // an earlier attempt may have run it
    const auto order = endpoints_.order();
    for (const std::size_t i : order) {
        req.url = endpoints_.url(i) + path;
        core::ClientResponse res;
        std::string failure;
        bool sent = true;
        try {
            res = co_await http_.send(req);
        } catch (const core::NotSentException& e) {
            failure = e.what();
            sent = false;
        } catch (const core::UnavailableException& e) {
            failure = e.what();
        }
        if (failure.empty()) {
            if (res.status == 200) {
                if (!entry->decode_response(res.body, response)) {
                    // A server of another version? Not the client's fault, not worth a retry.
                    endpoints_.failed(i);
                    ++failures_;
                    log->error("dbman answer does not decode op={} endpoint={}", name,
                               endpoints_.url(i));
                    throw core::UnavailableException("dbman answer does not decode");
                }
                endpoints_.succeeded(i);
                if (resent != nullptr) *resent = ambiguous;
                co_return core::Result<void>{};
            }
            // The operation's own answer (403 room access denied, 409 …): as a local run.
            if (auto e = decode_error(res.body)) co_return *e;
            if (res.status < 500) {
                // No op error: a wrong token, an operation the server does not know. A
                // deployment fault; another endpoint of the same deployment would say the same.
                log->error("dbman refused op={} status={} endpoint={}", name, res.status,
                           endpoints_.url(i));
                throw core::UnavailableException("dbman refused the call");
            }
            failure = "status " + std::to_string(res.status);
        }
        endpoints_.failed(i);
        ++failures_;
        last = failure;
        if (sent && !idempotent) {
            // It may have run there: sending it again could run it twice.
            log->warn(
                "dbman call failed after sending op={} endpoint={} error=\"{}\" "
                "(not idempotent: not sent again)",
                name, endpoints_.url(i), failure);
            throw core::UnavailableException("dbman call failed after sending");
        }
        ambiguous = ambiguous || sent;
        log->warn("dbman attempt failed op={} endpoint={} error=\"{}\"", name, endpoints_.url(i),
                  failure);
    }
    log->warn("dbman call failed op={} endpoints={} error=\"{}\"", name, endpoints_.size(), last);
    throw core::UnavailableException("no dbman endpoint answered");
}

}  // namespace msg::data
