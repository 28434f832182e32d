#include "org/service.hpp"

#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "core/base64url.hpp"
#include "core/blocking.hpp"
#include "core/random.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "data/executor.hpp"
#include "org/operations.hpp"
#include "search/tokenizer.hpp"

namespace msg::org {

using core::Result;
using core::Task;

OrgService::OrgService(data::Executor& db, const auth::JwtCodec& jwt,
                       const auth::PasswordHasher& hasher, core::BlockingPool& blocking,
                       const core::Clock& clock, LoginLimits limits)
    : db_(db),
      jwt_(jwt),
      hasher_(hasher),
      blocking_(blocking),
      login_by_email_(limits.per_email_per_minute, std::chrono::seconds(60), clock),
      login_by_ip_(limits.per_ip_per_minute, std::chrono::seconds(60), clock) {}

Task<std::string> OrgService::hash_password(std::string password) {
    std::string hash;
    co_await blocking_.run([&] { hash = hasher_.hash(password); });
    co_return hash;
}

namespace {
core::Error throttled(int seconds) {
    return core::Error{core::ErrorCode::too_many_requests, "too many requests", seconds};
}

}  // namespace

Task<Result<OrgService::Token>> OrgService::login(LoginInput in) {
    // Attempts count per client address (IPv6 per /64); per account only failures count (the
    // owner's successful logins are refunded), and a throttled account answers 429 before any
    // password is checked. The token is taken before the check, so parallel guesses cannot all
    // pass.
    if (int wait = login_by_ip_.acquire(core::rate_key_for_ip(in.ip))) co_return throttled(wait);
    const std::string account = in.tenant_id + "\n" + core::ascii_lower(in.email);
    if (int wait = login_by_email_.acquire(account)) co_return throttled(wait);
    auto found = co_await db_.run<FindLoginUser>(in.tenant_id, in.email);
    if (!found) {
        login_by_email_.refund(account);
        co_return found.error();
    }

    bool ok = false;
    const auto& user = *found;
    // Unauthenticated work on the hashing pool, which is bounded: a login flood is refused at
    // once (503) and never queues up behind itself or delays file I/O.
    const bool ran = co_await blocking_.try_run([&] {
        if (user.found) {
            ok = hasher_.verify(user.password_hash, in.password);
        } else {
            hasher_.verify_dummy(in.password);  // same cost as a wrong password
        }
    });
    if (!ran) {
        login_by_email_.refund(account);  // not tried: not a failure
        co_return core::Error{core::ErrorCode::unavailable, "server busy", 1};
    }
    if (!ok) co_return core::unauthorized("invalid credentials");  // the failure is charged
    login_by_email_.refund(account);

    core::Principal who{user.user_id, in.tenant_id, user.role, user.token_version};
    co_return Token{jwt_.sign(who), user.user_id, in.tenant_id, user.role};
}

Task<Result<void>> OrgService::revoke_tokens(const core::Principal& caller) {
    ChangeCredentials::Request req;
    req.tenant_id = caller.tenant_id;
    req.user_id = caller.user_id;
    auto r = co_await db_.run<ChangeCredentials>(std::move(req));
    if (!r) co_return r.error();
    if (credentials_observer_) credentials_observer_(caller.tenant_id, caller.user_id);
    co_return Result<void>{};
}

Task<Result<User>> OrgService::set_active(const core::Principal& caller, std::int64_t user_id,
                                          bool active) {
    if (!caller.is_admin_or_manager()) co_return core::forbidden("insufficient permissions");
    if (user_id == caller.user_id)
        co_return core::invalid("you cannot deactivate or reactivate yourself");
    ChangeCredentials::Request req;
    req.tenant_id = caller.tenant_id;
    req.user_id = user_id;
    req.active = active;
    req.protect_admins = caller.role != "admin";
    auto r = co_await db_.run<ChangeCredentials>(std::move(req));
    if (!r) co_return r.error();
    if (credentials_observer_) credentials_observer_(caller.tenant_id, user_id);
    co_return std::move(*r);
}

Task<Result<User>> OrgService::set_role(const core::Principal& caller, std::int64_t user_id,
                                        std::string role) {
    if (caller.role != "admin") co_return core::forbidden("insufficient permissions");
    if (!valid_role(role)) co_return core::invalid("role must be admin, manager or user");
    if (user_id == caller.user_id) co_return core::invalid("you cannot change your own role");
    ChangeCredentials::Request req;
    req.tenant_id = caller.tenant_id;
    req.user_id = user_id;
    req.role = std::move(role);
    auto r = co_await db_.run<ChangeCredentials>(std::move(req));
    if (!r) co_return r.error();
    if (credentials_observer_) credentials_observer_(caller.tenant_id, user_id);
    co_return std::move(*r);
}

Task<Result<void>> OrgService::reset_password(const core::Principal& caller, std::int64_t user_id,
                                              std::string password) {
    if (!caller.is_admin_or_manager()) co_return core::forbidden("insufficient permissions");
    if (password.size() < kMinPasswordBytes || password.size() > kMaxPasswordBytes) {
        co_return core::invalid("password must be 8 to 128 bytes");
    }
    std::string hash = co_await hash_password(std::move(password));
    ChangeCredentials::Request req;
    req.tenant_id = caller.tenant_id;
    req.user_id = user_id;
    req.password_hash = std::move(hash);
    req.protect_admins = caller.role != "admin";
    auto r = co_await db_.run<ChangeCredentials>(std::move(req));
    if (!r) co_return r.error();
    if (credentials_observer_) credentials_observer_(caller.tenant_id, user_id);
    co_return Result<void>{};
}

Task<Result<std::int64_t>> OrgService::create_org_unit(const core::Principal& caller,
                                                       std::optional<std::int64_t> parent_id,
                                                       std::string name) {
    auto r = co_await db_.run<CreateOrgUnit>(caller.tenant_id, parent_id, std::move(name));
    if (!r) co_return r.error();
    co_return r->id;
}

Task<Result<std::vector<OrgUnit>>> OrgService::list_org_units(const core::Principal& caller) {
    auto r = co_await db_.run<ListOrgUnits>(caller.tenant_id);
    if (!r) co_return r.error();
    co_return std::move(r->items);
}

Task<Result<std::int64_t>> OrgService::create_user(const core::Principal& caller, NewUser in) {
    if (in.role.empty()) in.role = "user";
    if (in.status.empty()) in.status = "offline";
    if (!valid_role(in.role)) co_return core::invalid("role must be admin, manager or user");
    if (in.role == "admin" && caller.role != "admin") {
        co_return core::forbidden("insufficient permissions");
    }
    if (!valid_status(in.status)) {
        co_return core::invalid("status must be one of online, offline, busy, away, meeting");
    }
    if (!valid_email(in.email)) co_return core::invalid("email is invalid");
    if (in.password.size() < kMinPasswordBytes || in.password.size() > kMaxPasswordBytes) {
        co_return core::invalid("password must be 8 to 128 bytes");
    }
    std::string hash = co_await hash_password(in.password);
    CreateUser::Request req{caller.tenant_id, in.org_id, in.email,       in.name,        in.title,
                            in.role,          in.status, in.status_note, std::move(hash)};
    auto r = co_await db_.run<CreateUser>(std::move(req));
    if (!r) co_return r.error();
    co_return r->id;
}

Task<Result<StatusChange>> OrgService::update_status(const core::Principal& caller,
                                                     std::int64_t user_id, std::string status,
                                                     std::string note) {
    if (caller.user_id != user_id && !caller.is_admin_or_manager()) {
        co_return core::forbidden("cannot update another user's status");
    }
    if (!valid_status(status)) {
        co_return core::invalid("status must be one of online, offline, busy, away, meeting");
    }
    auto r = co_await db_.run<UpdateUserStatus>(caller.tenant_id, user_id, std::move(status),
                                                std::move(note));
    if (!r) co_return r.error();
    if (status_observer_) status_observer_(caller.tenant_id, *r);
    co_return std::move(*r);
}

Task<Result<std::vector<User>>> OrgService::search_users(const core::Principal& caller,
                                                         std::string query, int limit) {
    const std::string_view trimmed = core::trim(query);
    if (trimmed.empty()) co_return core::invalid("q is required");
    const auto parsed = search::parse_query(trimmed);
    std::vector<User> found;
    if (parsed.empty()) co_return found;  // nothing searchable (punctuation, emoji)
    SearchUsers::Request req;
    req.tenant_id = caller.tenant_id;
    req.tsquery = search::to_tsquery(parsed);
    req.limit = limit;
    // Index candidates, then verification (as message search): a few rounds at most.
    for (int round = 0; round < 5 && found.size() < static_cast<std::size_t>(limit); ++round) {
        auto r = co_await db_.run<SearchUsers>(req);
        if (!r) co_return r.error();
        const bool more = r->items.size() == static_cast<std::size_t>(req.limit);
        if (more) {  // the keyset, before the items are moved out
            req.after_updated_at = r->items.back().updated_at;
            req.after_id = r->items.back().id;
        }
        for (std::size_t i = 0; i < r->items.size(); ++i) {
            User& u = r->items[i];
            const auto text = user_search_text(u.name, u.email, u.title, r->aliases[i]);
            if (search::contains_all(text, parsed.terms) &&
                found.size() < static_cast<std::size_t>(limit)) {
                found.push_back(std::move(u));
            }
        }
        if (!more) break;
    }
    co_return found;
}

Task<Result<User>> OrgService::me(const core::Principal& caller) {
    co_return co_await db_.run<GetUser>(caller.tenant_id, caller.user_id);
}

Task<Result<std::vector<std::string>>> OrgService::aliases(const core::Principal& caller) {
    auto r = co_await db_.run<ListAliases>(caller.tenant_id, caller.user_id);
    if (!r) co_return r.error();
    co_return std::move(r->aliases);
}

Task<Result<void>> OrgService::add_alias(const core::Principal& caller, AliasInput in) {
    auto alias = normalize_alias_for_add(in.alias);
    if (!alias) co_return alias.error();
    auto r = co_await db_.run<AddAlias>(caller.tenant_id, caller.user_id, std::move(*alias), in.ip,
                                        in.user_agent);
    if (!r) co_return r.error();
    co_return Result<void>{};
}

Task<Result<void>> OrgService::delete_alias(const core::Principal& caller, AliasInput in) {
    auto alias = normalize_alias_for_delete(in.alias);
    if (!alias) co_return alias.error();
    auto r = co_await db_.run<DeleteAlias>(caller.tenant_id, caller.user_id, std::move(*alias),
                                           in.ip, in.user_agent);
    if (!r) co_return r.error();
    co_return Result<void>{};
}

Task<Result<OrgService::AuditPage>> OrgService::alias_audit(const core::Principal& caller,
                                                            AuditQuery q) {
    ListAliasAudit::Request req;
    req.tenant_id = caller.tenant_id;
    req.user_id = caller.user_id;
    if (q.from) {
        req.from_unix_nanos = core::parse_rfc3339(*q.from);
        if (!req.from_unix_nanos) co_return core::invalid("from must use RFC3339 format");
    }
    if (q.to) {
        req.to_unix_nanos = core::parse_rfc3339(*q.to);
        if (!req.to_unix_nanos) co_return core::invalid("to must use RFC3339 format");
    }
    if (q.action) {
        req.action = core::ascii_lower(*q.action);
        auto b = req.action.find_first_not_of(" \t");
        req.action = b == std::string::npos
                         ? ""
                         : req.action.substr(b, req.action.find_last_not_of(" \t") - b + 1);
        if (!req.action.empty() && req.action != "add" && req.action != "delete") {
            co_return core::invalid("action must be add or delete");
        }
    }
    if (req.from_unix_nanos && req.to_unix_nanos && *req.from_unix_nanos > *req.to_unix_nanos) {
        co_return core::invalid("from must be before to");
    }
    if (q.cursor) {
        auto c = core::decode_cursor(*q.cursor);
        if (!c) co_return core::invalid("cursor is invalid");
        req.cursor_unix_nanos = c->unix_nanos;
        req.cursor_id = c->id;
    }
    req.limit = q.limit + 1;  // one more tells whether a next page exists
    auto r = co_await db_.run<ListAliasAudit>(std::move(req));
    if (!r) co_return r.error();
    AuditPage page;
    page.items = std::move(r->items);
    if (page.items.size() > static_cast<std::size_t>(q.limit)) {
        page.items.resize(static_cast<std::size_t>(q.limit));
        const auto& last = page.items.back();
        page.next_cursor = core::encode_cursor({last.created_unix_nanos, last.id});
    }
    co_return page;
}

Task<OrgService::SeedAdminOutput> OrgService::seed_admin(SeedAdminInput in) {
    SeedAdminOutput out;
    std::string password;
    if (in.password) {
        password = *in.password;
    } else {
        password = core::random_token(15);
    }
    // Awaited in its own statement: GCC 12 double-destroys the members an initializer has
    // already built when a co_await sits inside it.
    std::string hash = co_await hash_password(password);
    SeedAdmin::Request req{in.tenant_id, in.email,        in.name,
                           in.title,     std::move(hash), in.password.has_value()};
    auto r = co_await db_.run<SeedAdmin>(std::move(req));
    out.user_id = r.value().user_id;
    out.created = r->created;
    if (out.created && !in.password) out.generated_password = password;
    co_return out;
}

Task<Result<std::optional<StatusChange>>> OrgService::set_auto_presence(
    const std::string& tenant_id, std::int64_t user_id, bool online) {
    auto r = co_await db_.run<SetAutoPresence>(tenant_id, user_id, online);
    if (!r) co_return r.error();
    std::optional<StatusChange> change;
    if (r->changed) change = r->change;
    co_return change;
}

Task<std::int64_t> OrgService::reset_auto_presence() {
    const ResetAutoPresence::Request request;
    auto r = co_await db_.run<ResetAutoPresence>(request);
    co_return r ? r->reset : 0;
}

Task<std::int64_t> OrgService::reindex_users() {
    std::int64_t total = 0;
    for (;;) {
        auto batch = co_await db_.run<IndexUsers>(500);
        if (!batch || batch->indexed == 0) break;
        total += batch->indexed;
    }
    co_return total;
}

}  // namespace msg::org
