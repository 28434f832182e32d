#include "tenant/dedicated.hpp"

#include <libpq-fe.h>
#include <sodium.h>

#include <array>
#include <memory>

#include "amqp/url.hpp"
#include "core/base64url.hpp"
#include "redis/address.hpp"

namespace msg::tenant {

namespace {

constexpr std::string_view kSealed = "enc:v1:";

bool allowed_keyword(std::string_view k) {
    static constexpr std::array<std::string_view, 15> kAllowed = {"host",
                                                                  "hostaddr",
                                                                  "port",
                                                                  "dbname",
                                                                  "user",
                                                                  "password",
                                                                  "sslmode",
                                                                  "connect_timeout",
                                                                  "application_name",
                                                                  "target_session_attrs",
                                                                  "channel_binding",
                                                                  "keepalives",
                                                                  "keepalives_idle",
                                                                  "keepalives_interval",
                                                                  "keepalives_count"};
    if (k == "tcp_user_timeout") return true;
    for (const auto a : kAllowed) {
        if (a == k) return true;
    }
    return false;
}

/// Each comma-separated host of a libpq host list is a name or an address.
bool network_hosts(std::string_view hosts) {
    std::size_t start = 0;
    for (;;) {
        const auto end = hosts.find(',', start);
        const auto h =
            hosts.substr(start, end == std::string_view::npos ? hosts.npos : end - start);
        if (h.empty() || h.front() == '/' || h.front() == '@' || h.find('/') != h.npos ||
            h.find('\\') != h.npos) {
            return false;
        }
        if (end == std::string_view::npos) return true;
        start = end + 1;
    }
}

std::optional<core::Error> validate_dsn(const std::string& dsn) {
    const bool url = dsn.find("://") != std::string::npos;
    if (url && !dsn.starts_with("postgres://") && !dsn.starts_with("postgresql://")) {
        return core::invalid("dedicated_dsn must be a postgres:// URL or key=value");
    }
    char* err = nullptr;
    std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> opts(
        PQconninfoParse(dsn.c_str(), &err), PQconninfoFree);
    if (err != nullptr) PQfreemem(err);  // its text may quote the DSN: not shown
    if (!opts) return core::invalid("dedicated_dsn is not a valid PostgreSQL DSN");
    bool host = false;
    for (PQconninfoOption* o = opts.get(); o->keyword != nullptr; ++o) {
        if (o->val == nullptr || *o->val == '\0') continue;
        const std::string_view key = o->keyword;
        if (!allowed_keyword(key)) {
            return core::invalid("dedicated_dsn may not set " + std::string(key));
        }
        if (key == "host") {
            if (!network_hosts(o->val)) {
                return core::invalid("dedicated_dsn host must be a host name or address");
            }
            host = true;
        }
        if (key == "hostaddr") host = true;
    }
    if (!host) return core::invalid("dedicated_dsn must name a host");
    return std::nullopt;
}

}  // namespace

std::string harden_dsn(const std::string& dsn) {
    char* err = nullptr;
    std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> opts(
        PQconninfoParse(dsn.c_str(), &err), PQconninfoFree);
    if (err != nullptr) PQfreemem(err);
    if (!opts) return dsn;  // validated before it was stored: does not happen
    const auto quoted = [](std::string_view v) {
        std::string out = "'";
        for (char c : v) {
            if (c == '\\' || c == '\'') out += '\\';
            out += c;
        }
        return out + "'";
    };
    std::string out;
    bool password = false;
    for (PQconninfoOption* o = opts.get(); o->keyword != nullptr; ++o) {
        if (o->val == nullptr || *o->val == '\0') continue;
        const std::string_view key = o->keyword;
        if (key == "passfile" || key == "sslcert" || key == "sslkey" || key == "gssencmode") {
            continue;  // refused by validation; set below either way
        }
        password = password || key == "password";
        out += std::string(key) + '=' + quoted(o->val) + ' ';
    }
    // None of the server's own credentials: not PGPASSWORD or ~/.pgpass (a password-less DSN
    // would hand them to whatever server it names), not ~/.postgresql's client certificate,
    // not a Kerberos ticket.
    if (!password) out += "password='' ";
    out +=
        "passfile='/nonexistent' sslcert='/nonexistent' sslkey='/nonexistent' gssencmode=disable";
    return out;
}

namespace {

std::optional<core::Error> validate_minio_endpoint(const std::string& e) {
    const auto colon = e.rfind(':');
    const std::string_view host = std::string_view(e).substr(0, colon);
    bool ok = !host.empty() && e.size() <= 255;
    for (char c : host) {
        const bool name = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '.' || c == '-';
        ok = ok && name;
    }
    if (ok && colon != std::string::npos) {
        const std::string_view port = std::string_view(e).substr(colon + 1);
        ok = !port.empty() && port.size() <= 5;
        for (char c : port) ok = ok && c >= '0' && c <= '9';
    }
    if (!ok) return core::invalid("dedicated_minio_endpoint must be host[:port]");
    return std::nullopt;
}

std::optional<core::Error> validate_fields(const std::string* dsn, const std::string* redis,
                                           const std::string* lavinmq, const std::string* minio) {
    if (dsn && !dsn->empty()) {
        if (auto e = validate_dsn(*dsn)) return e;
    }
    if (redis && !redis->empty() && !redis::parse_address(*redis)) {
        return core::invalid("dedicated_redis_addr must be host:port or a redis:// URL");
    }
    if (lavinmq && !lavinmq->empty() && !amqp::parse_url(*lavinmq)) {
        return core::invalid(
            "dedicated_lavinmq_url must be an amqp:// URL (this build has no AMQP TLS)");
    }
    if (minio && !minio->empty()) {
        if (auto e = validate_minio_endpoint(*minio)) return e;
    }
    return std::nullopt;
}

template <class T>
const std::string* present(const std::optional<T>& v) {
    return v ? &*v : nullptr;
}

}  // namespace

std::optional<core::Error> validate_dedicated(const TenantPatch& p) {
    return validate_fields(present(p.dedicated_dsn), present(p.dedicated_redis_addr),
                           present(p.dedicated_lavinmq_url), present(p.dedicated_minio_endpoint));
}

std::optional<core::Error> validate_dedicated(const Tenant& t) {
    return validate_fields(&t.dedicated_dsn, &t.dedicated_redis_addr, &t.dedicated_lavinmq_url,
                           &t.dedicated_minio_endpoint);
}

SecretBox::SecretBox(std::string_view key) {
    if (key.empty()) return;
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    static_assert(sizeof(key_) == crypto_secretbox_KEYBYTES);
    static constexpr std::string_view kContext = "msg_server tenant secrets v1";
    crypto_generichash_state state;
    crypto_generichash_init(&state, nullptr, 0, sizeof(key_));
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(kContext.data()),
                              kContext.size());
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
    crypto_generichash_final(&state, key_, sizeof(key_));
    configured_ = true;
}

std::string SecretBox::seal(std::string_view plaintext) const {
    if (plaintext.empty()) return {};
    if (!configured_) throw std::logic_error("SecretBox::seal without a key");
    std::string raw(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(),
                    '\0');
    auto* nonce = reinterpret_cast<unsigned char*>(raw.data());
    randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                          reinterpret_cast<const unsigned char*>(plaintext.data()),
                          plaintext.size(), nonce, key_);
    return std::string(kSealed) + core::base64url_encode(raw);
}

core::Result<std::string> SecretBox::open(std::string_view stored) const {
    if (!stored.starts_with(kSealed)) return std::string(stored);
    if (!configured_) return core::unavailable("tenant secrets key is not configured");
    const auto raw = core::base64url_decode(stored.substr(kSealed.size()));
    if (!raw || raw->size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
        return core::unavailable("a tenant secret cannot be read");
    }
    const auto* nonce = reinterpret_cast<const unsigned char*>(raw->data());
    const std::size_t cipher = raw->size() - crypto_secretbox_NONCEBYTES;
    std::string out(cipher - crypto_secretbox_MACBYTES, '\0');
    if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(out.data()),
                                   nonce + crypto_secretbox_NONCEBYTES, cipher, nonce, key_) != 0) {
        return core::unavailable("a tenant secret cannot be read (another TENANT_SECRETS_KEY?)");
    }
    return out;
}

namespace {

std::optional<core::Error> seal_one(const SecretBox& box, std::string& value) {
    if (value.empty()) return std::nullopt;
    if (!box.configured()) return core::unavailable("tenant secrets key is not configured");
    value = box.seal(value);
    return std::nullopt;
}

std::optional<core::Error> open_one(const SecretBox& box, std::string& value) {
    auto opened = box.open(value);
    if (!opened) return opened.error();
    value = std::move(*opened);
    return std::nullopt;
}

}  // namespace

std::optional<core::Error> seal_secrets(const SecretBox& box, TenantPatch& p) {
    for (auto* field : {&p.dedicated_dsn, &p.dedicated_redis_addr, &p.dedicated_lavinmq_url,
                        &p.dedicated_minio_access_key, &p.dedicated_minio_secret_key}) {
        if (!*field) continue;
        if (auto e = seal_one(box, **field)) return e;
    }
    return std::nullopt;
}

std::optional<core::Error> seal_secrets(const SecretBox& box, Tenant& t) {
    for (auto* field : {&t.dedicated_dsn, &t.dedicated_redis_addr, &t.dedicated_lavinmq_url,
                        &t.dedicated_minio_access_key, &t.dedicated_minio_secret_key}) {
        if (auto e = seal_one(box, *field)) return e;
    }
    return std::nullopt;
}

std::optional<core::Error> open_secrets(const SecretBox& box, Tenant& t) {
    for (auto* field : {&t.dedicated_dsn, &t.dedicated_redis_addr, &t.dedicated_lavinmq_url,
                        &t.dedicated_minio_access_key, &t.dedicated_minio_secret_key}) {
        if (auto e = open_one(box, *field)) return e;
    }
    return std::nullopt;
}

}  // namespace msg::tenant
