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

/// `bytes` bytes from the CSPRNG, base64url encoded (generated passwords, tokens).
std::string random_token(std::size_t bytes);
/// `bytes` bytes from the CSPRNG as lowercase hex (device session tokens: 2×bytes chars).
std::string random_hex(std::size_t bytes);
/// SHA-256 of `data` as 64 lowercase hex characters. For high-entropy secrets (session
/// tokens) only; passwords go through PasswordHasher.
std::string sha256_hex(std::string_view data);
/// Equal secrets, in time independent of where they differ (their lengths are not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace msg::auth
