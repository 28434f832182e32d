#include "session/directory.hpp"

#include <charconv>

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
std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
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
        std::vector<Key> orphaned;
        co_await thread_.run(
            [&] { attempt([&](auto& c) { return beat_and_sweep(c, local_users, orphaned); }); });
        co_return orphaned;
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
                        std::vector<Key>& orphaned) {
        beat(c, local_users);
        orphaned = sweep(c);
        return true;
    }

    void beat(redis::Connection& c, const std::function<std::vector<Key>()>& local_users) {
        // Known to the directory? (No: first beat, Redis restarted empty, or another node
        // took this one for dead and cleared it.) Then register every local user again.
        const bool known = c.command({"ZSCORE", kNodes, node_})->type != REDIS_REPLY_NIL;
        c.command({"ZADD", kNodes, std::to_string(unix_ms()), node_});
        if (known) return;
        const auto users = local_users();
        for (const auto& k : users) {
            c.append({"HSET", user_key(k), node_, "1"});
            c.append({"SADD", node_key_, member(k)});
        }
        c.flush();
        for (std::size_t i = 0; i < users.size() * 2; ++i) c.read();
        warned_ = false;
    }

    std::vector<Key> sweep(redis::Connection& c) {
        std::vector<Key> out;
        const auto stale = std::to_string(unix_ms() - ttl_.count());
        auto dead = c.command({"ZRANGEBYSCORE", kNodes, "-inf", "(" + stale});
        for (std::size_t i = 0; i < dead->elements; ++i) {
            const std::string node(redis::text(*dead->element[i]));
            if (node == node_) continue;
            if (c.command({"ZREM", kNodes, node})->integer != 1) continue;  // another took it
            const std::string set = "presence:node:" + node;
            auto users = c.command({"SMEMBERS", set});
            for (std::size_t j = 0; j < users->elements; ++j) {
                auto key = parse_member(redis::text(*users->element[j]));
                if (!key) continue;
                c.command({"HDEL", user_key(*key), node});
                out.push_back(std::move(*key));
            }
            c.command({"DEL", set});
            core::logger("session")->warn("presence: node {} stopped beating, {} users released",
                                          node, out.size());
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
