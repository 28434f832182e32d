#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "tenant/model.hpp"

namespace msg::tenant {

/// Checks the `dedicated_*` settings a platform admin submits before anything connects to
/// them (seed-contract §7.1 has none; a DSN is a way to make the server read files or reach
/// sockets). Present, non-empty fields only; errors never echo the value (it holds secrets):
///   dedicated_dsn — PostgreSQL URL (`postgres://`, `postgresql://`) or key=value; only the
///     connection keywords host, hostaddr, port, dbname, user, password, sslmode,
///     connect_timeout, application_name, target_session_attrs, channel_binding and the
///     keepalive/tcp_user_timeout ones (no passfile, sslkey, sslcert, sslrootcert, service,
///     options…); a host is a name or address, never a socket path, and one is required.
///   dedicated_redis_addr — `host:port` or `redis://…` (redis/address.hpp).
///   dedicated_lavinmq_url — `amqp://` (amqp/url.hpp: this build has no AMQP TLS).
///   dedicated_minio_endpoint — `host[:port]`, no scheme, path or credentials.
std::optional<core::Error> validate_dedicated(const TenantPatch& patch);
std::optional<core::Error> validate_dedicated(const Tenant& tenant);

/// What a node connects with for a stored (validated, opened) `dedicated_dsn`: the same
/// settings as key=value, plus what keeps libpq from offering the server's own credentials
/// (PGPASSWORD, ~/.pgpass, ~/.postgresql client certificates, GSS) to the named server.
std::string harden_dsn(const std::string& dsn);

/// Credentials of dedicated resources encrypted at rest (TENANT_SECRETS_KEY): XSalsa20-Poly1305
/// (libsodium secretbox) with a key hashed from the configured one, a random nonce per value,
/// stored as `enc:v1:<base64url(nonce | ciphertext)>`. The sealed fields: dedicated_dsn,
/// dedicated_redis_addr, dedicated_lavinmq_url (URLs with passwords) and both MinIO keys.
class SecretBox {
  public:
    /// `key` empty: not configured (a tenant can then have no dedicated credentials).
    explicit SecretBox(std::string_view key);
    bool configured() const { return configured_; }

    /// "" stays "" (nothing to hide).
    std::string seal(std::string_view plaintext) const;
    /// A sealed value back; a value that is not sealed (a row from before encryption) is
    /// returned as it is. Fails for a value sealed with another key or altered.
    core::Result<std::string> open(std::string_view stored) const;

  private:
    bool configured_ = false;
    unsigned char key_[32] = {};
};

/// Seals the credential fields present in `patch` / set in `tenant`; 503 `tenant secrets key
/// is not configured` when there is one to seal and no key.
std::optional<core::Error> seal_secrets(const SecretBox& box, TenantPatch& patch);
std::optional<core::Error> seal_secrets(const SecretBox& box, Tenant& tenant);
/// Opens them in place (what a router connects with; the JSON still never shows them).
std::optional<core::Error> open_secrets(const SecretBox& box, Tenant& tenant);

}  // namespace msg::tenant
