#pragma once

#include <string>
#include <string_view>

namespace msg::auth {

/// argon2id password hashing (libsodium). CPU- and memory-heavy by design: call from a
/// BlockingPool, never on an I/O thread.
class PasswordHasher {
  public:
    struct Cost {
        unsigned long long ops;
        std::size_t mem_bytes;
    };
    /// libsodium's "interactive" cost (2 passes, 64 MiB).
    static Cost interactive();

    explicit PasswordHasher(Cost cost);

    std::string hash(std::string_view password) const;
    bool verify(std::string_view hash, std::string_view password) const;
    /// Burns the time of one verify, so an unknown user costs what a wrong password costs.
    void verify_dummy(std::string_view password) const;

  private:
    Cost cost_;
    std::string dummy_hash_;
};

}  // namespace msg::auth

namespace msg::auth {

/// SHA-256 of `data` as 64 lowercase hex characters. For high-entropy secrets (session
/// tokens) only; passwords go through PasswordHasher.
std::string sha256_hex(std::string_view data);

}  // namespace msg::auth
