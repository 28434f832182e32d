#pragma once

// The remote executor's transport (issue 17): operations POSTed as JSON to a dbman tier, with
// the seed's failover rules (seed-contract §10) and one change — after a request may have
// reached a server (a timeout, a dropped connection, a 5xx), only an idempotent operation is
// sent to the next endpoint; any other fails with 503 rather than risk running twice.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/http_client.hpp"
#include "data/remote.hpp"

namespace msg::data {

/// Endpoint health for one client (thread-safe, in memory, per process): a round-robin start,
/// a failure count per endpoint, and a cooldown once it reaches the threshold. Only a success
/// resets the count; a cooled-down endpoint is tried again once its cooldown has passed.
class Endpoints {
  public:
    Endpoints(std::vector<std::string> urls, int fail_threshold, std::chrono::milliseconds cooldown,
              const core::Clock& clock);

    /// Indexes to try for one call, in order: round robin from the next start, without the
    /// endpoints still cooling down.
    std::vector<std::size_t> order();
    void failed(std::size_t i);
    void succeeded(std::size_t i);
    const std::string& url(std::size_t i) const { return urls_[i]; }
    std::size_t size() const { return urls_.size(); }
    std::size_t cooling() const;  // endpoints in cooldown now

  private:
    struct State {
        int failures = 0;
        core::Clock::steady_point cool_until{};
        bool cooling = false;
    };
    std::vector<std::string> urls_;
    int threshold_;
    std::chrono::milliseconds cooldown_;
    const core::Clock& clock_;
    mutable std::mutex mutex_;
    std::vector<State> state_;
    std::uint32_t next_ = 0;
};

/// DBMAN_ENDPOINTS as the seed reads it: trimmed, trailing '/' removed, empties and duplicates
/// dropped, order kept.
std::vector<std::string> normalize_endpoints(const std::vector<std::string>& raw);

class DbmanClient final : public Remote {
  public:
    struct Options {
        std::vector<std::string> endpoints;          // http://host:port, normalized
        std::string token;                           // INTERNAL_API_TOKEN
        int fail_threshold = 3;                      // DBMAN_FAIL_THRESHOLD
        std::chrono::milliseconds cooldown{10'000};  // DBMAN_COOLDOWN_MS
        std::chrono::milliseconds timeout{5'000};    // DBMAN_HTTP_TIMEOUT_MS, per attempt
    };

    DbmanClient(Options options, const Registry& registry, core::HttpClient& http,
                const core::Clock& clock);

    core::Task<core::Result<void>> call(std::type_index type, std::string_view name,
                                        const void* request, void* response, bool idempotent,
                                        bool* resent) override;

    const Endpoints& endpoints() const { return endpoints_; }
    std::uint64_t calls() const { return calls_.load(); }
    /// Attempts that failed (not sent, timed out, 5xx) — each moved on or ended the call.
    std::uint64_t failures() const { return failures_.load(); }

  private:
    Options options_;
    const Registry& registry_;
    core::HttpClient& http_;
    Endpoints endpoints_;
    std::atomic<std::uint64_t> calls_{0}, failures_{0};
};

}  // namespace msg::data
