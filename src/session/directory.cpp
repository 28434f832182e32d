#include "session/directory.hpp"

#include <charconv>
#include <set>

#include "core/blocking.hpp"
#include "core/log.hpp"
#include "redis/connection.hpp"

namespace msg::session {

namespace {

constexpr std::string_view kNodes = "presence:nodes";

std::string user_key(const PresenceDirectory::Key& k) {
    return "presence:" + k.first + ":" + std::to_string(k.second);
}
std::string member(const PresenceDirectory::Key& k) {
    return k.first + ":" + std::to_string(k.second);
}
std::optional<PresenceDirectory::Key> parse_member(std::string_view m) {
    const auto colon = m.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::int64_t user = 0;
    const auto digits = m.substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), user);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    return PresenceDirectory::Key{std::string(m.substr(0, colon)), user};
}

class RedisDirectory final : public PresenceDirectory {
  public:
    RedisDirectory(redis::Address address, std::string node_id, std::chrono::milliseconds ttl)
        : address_(std::move(address)),
          node_(std::move(node_id)),
          node_key_("presence:node:" + node_),
          ttl_(ttl) {}
    ~RedisDirectory() override { thread_.stop(); }
    RedisDirectory(const RedisDirectory&) = delete;
    RedisDirectory& operator=(const RedisDirectory&) = delete;

    core::Task<std::optional<bool>> set_here(const Key& key, bool here) override {
        std::optional<bool> out;
        co_await thread_.run(
            [&] { out = attempt([&](auto& c) { return set_now(c, key, here); }); });
        co_return out;
    }

    core::Task<std::optional<bool>> online(const Key& key) override {
        std::optional<bool> out;
        co_await thread_.run([&] { out = attempt([&](auto& c) { return online_now(c, key); }); });
        co_return out;
    }

    core::Task<std::vector<Key>> heartbeat(
        const std::function<std::vector<Key>()>& local_users) override {
        std::vector<Key> settle;
        co_await thread_.run(
            [&] { attempt([&](auto& c) { return beat_and_sweep(c, local_users, settle); }); });
        co_return settle;
    }

    std::chrono::milliseconds beat_every() const override { return ttl_ / 3; }

  private:
    /// Runs `f` on the connection, connecting first; any failure drops the connection (the next
    /// call reconnects) and answers nullopt.
    template <class F>
    std::optional<bool> attempt(F f) {
        try {
            if (!conn_)
                conn_ = std::make_unique<redis::Connection>(address_, std::chrono::seconds(2));
            return f(*conn_);
        } catch (const std::exception& e) {
            if (conn_ || !warned_) {
                core::logger("session")->warn("presence directory unavailable error=\"{}\"",
                                              e.what());
            }
            warned_ = true;
            conn_.reset();
            return std::nullopt;
        }
    }

    bool set_now(redis::Connection& c, const Key& key, bool here) {
        const std::string k = user_key(key), m = member(key);
        if (here) {
            c.append({"HSET", k, node_, "1"});
            c.append({"SADD", node_key_, m});
        } else {
            c.append({"HDEL", k, node_});
            c.append({"SREM", node_key_, m});
        }
        c.append({"HLEN", k});
        c.flush();
        c.read();
        c.read();
        return c.read()->integer > 0;
    }

    static bool online_now(redis::Connection& c, const Key& key) {
        return c.command({"HLEN", user_key(key)})->integer > 0;
    }

    bool beat_and_sweep(redis::Connection& c, const std::function<std::vector<Key>()>& local_users,
                        std::vector<Key>& settle) {
        const std::int64_t now = redis_ms(c);
        settle = beat(c, now, local_users);
        auto released = sweep(c, now);
        settle.insert(settle.end(), released.begin(), released.end());
        warned_ = false;
        return true;
    }

    /// Redis' clock, not this machine's: every node compares beats on the same one.
    static std::int64_t redis_ms(redis::Connection& c) {
        auto t = c.command({"TIME"});
        auto part = [&t](std::size_t i) {
            std::int64_t v = 0;
            const auto digits = redis::text(*t->element[i]);
            std::from_chars(digits.data(), digits.data() + digits.size(), v);
            return v;
        };
        return part(0) * 1000 + part(1) / 1000;
    }

    /// Marks this node alive and makes its entries exactly its local users: what the directory
    /// lost (Redis restarted empty, another node took this one for dead) is written again, and
    /// what it holds that is not local (set while a call failed) is removed. The users whose
    /// entry changed are returned: their presence is settled again.
    std::vector<Key> beat(redis::Connection& c, std::int64_t now,
                          const std::function<std::vector<Key>()>& local_users) {
        c.command({"ZADD", kNodes, std::to_string(now), node_});
        std::set<std::string> here;
        for (const auto& k : local_users()) here.insert(member(k));
        auto listed = c.command({"SMEMBERS", node_key_});
        std::set<std::string> there;
        for (std::size_t i = 0; i < listed->elements; ++i) {
            there.emplace(redis::text(*listed->element[i]));
        }
        std::vector<Key> changed;
        std::size_t replies = 0;
        for (const auto& m : here) {
            if (there.contains(m)) continue;
            auto key = parse_member(m);
            if (!key) continue;
            c.append({"HSET", user_key(*key), node_, "1"});
            c.append({"SADD", node_key_, m});
            replies += 2;
            changed.push_back(std::move(*key));
        }
        for (const auto& m : there) {
            if (here.contains(m)) continue;
            auto key = parse_member(m);
            if (!key) continue;
            c.append({"HDEL", user_key(*key), node_});
            c.append({"SREM", node_key_, m});
            replies += 2;
            changed.push_back(std::move(*key));
        }
        if (replies == 0) return changed;
        c.flush();
        for (std::size_t i = 0; i < replies; ++i) c.read();
        return changed;
    }

    /// Releases the users of nodes whose beat is older than the TTL. One script per dead node,
    /// atomic in Redis: exactly one sweeper claims it, only while it is still stale, and a
    /// sweeper that dies midway leaves nothing half done.
    std::vector<Key> sweep(redis::Connection& c, std::int64_t now) {
        static constexpr std::string_view kRelease = R"(
local beat = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not beat or tonumber(beat) >= tonumber(ARGV[2]) then return {} end
redis.call('ZREM', KEYS[1], ARGV[1])
local set = 'presence:node:' .. ARGV[1]
local users = redis.call('SMEMBERS', set)
for _, m in ipairs(users) do redis.call('HDEL', 'presence:' .. m, ARGV[1]) end
redis.call('DEL', set)
return users)";
        std::vector<Key> out;
        const auto stale = std::to_string(now - ttl_.count());
        auto dead = c.command({"ZRANGEBYSCORE", kNodes, "-inf", "(" + stale});
        for (std::size_t i = 0; i < dead->elements; ++i) {
            const std::string node(redis::text(*dead->element[i]));
            if (node == node_) continue;
            // Claimed only if still stale in Redis (it may have beaten since the range read).
            auto users = c.command({"EVAL", kRelease, "1", kNodes, node, stale});
            for (std::size_t j = 0; j < users->elements; ++j) {
                if (auto key = parse_member(redis::text(*users->element[j]))) {
                    out.push_back(std::move(*key));
                }
            }
            if (users->elements > 0) {
                core::logger("session")->warn(
                    "presence: node {} stopped beating, {} users released", node, users->elements);
            }
        }
        return out;
    }

    redis::Address address_;
    std::string node_, node_key_;
    std::chrono::milliseconds ttl_;
    core::BlockingPool thread_{1};  // the connection's only user
    std::unique_ptr<redis::Connection> conn_;
    bool warned_ = false;
};

}  // namespace

std::unique_ptr<PresenceDirectory> redis_directory(redis::Address address, std::string node_id,
                                                   std::chrono::milliseconds node_ttl) {
    return std::make_unique<RedisDirectory>(std::move(address), std::move(node_id), node_ttl);
}

}  // namespace msg::session
