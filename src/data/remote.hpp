#pragma once

// The dbman boundary without Beast or Boost.JSON: what the executor needs to send an operation
// to another process, and what a dbman node needs to serve one. The JSON mapping itself is in
// data/wire.hpp, included only where operations are registered.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <typeindex>
#include <vector>

#include "core/error.hpp"
#include "core/task.hpp"

namespace msg::data {

class Executor;

/// One registered operation: its name (the dbman path), how it may be retried, and its JSON
/// mapping, type-erased so the executor header stays free of Boost.JSON.
struct OpEntry {
    std::string_view name;
    std::type_index type = typeid(void);
    bool read_only = false;
    /// Encodes a `const Op::Request*` as a JSON object.
    std::string (*encode_request)(const void* request) = nullptr;
    /// Decodes a response body into `Op::Response*`; false when it does not parse.
    bool (*decode_response)(std::string_view body, void* response) = nullptr;
    /// dbman's side: decodes a request body (400 when it does not parse), runs the operation
    /// on `local` and encodes the outcome as (status, body). `body` outlives the call.
    core::Task<std::pair<unsigned, std::string>> (*serve)(Executor& local,
                                                          const std::string& body) = nullptr;
};

/// Every operation a dbman node serves and a remote executor may send. Modules add theirs
/// with one line each (`<module>/wire.cpp`); a test compares the names with the operations
/// declared in the sources.
class Registry {
  public:
    /// Throws std::logic_error for a name registered twice.
    void add(OpEntry entry);
    const OpEntry* find(std::string_view name) const;
    std::vector<std::string_view> names() const;
    const std::map<std::string, OpEntry, std::less<>>& entries() const { return entries_; }

  private:
    std::map<std::string, OpEntry, std::less<>> entries_;
};

/// How a remote executor reaches the tier. `idempotent`: the operation may be sent again (to
/// another endpoint) after a first attempt may have reached a server.
class Remote {
  public:
    virtual ~Remote() = default;
    /// Runs the registered operation `name`; fills `*response` on success, and sets
    /// `*resent` (when given) if the answer came from sending it again after an attempt that
    /// may have run it (a "duplicate" in that answer may be this call's own first attempt).
    /// Throws core::UnavailableException when no endpoint gave an answer.
    virtual core::Task<core::Result<void>> call(std::type_index type, std::string_view name,
                                                const void* request, void* response,
                                                bool idempotent, bool* resent) = 0;
};

/// The op error dbman sends for an operation's expected failure: the status of its code and
/// `{"error": message, "code": "<code>", "retry_after": n}` — the code travels, so the caller
/// gives its client the same error as a local run would.
std::string encode_error(const core::Error& e);
unsigned status_of(core::ErrorCode code);
/// nullopt when `body` is not an op error (a 401 from the token check, a 404 of an unknown
/// operation: a deployment fault, not the operation's answer).
std::optional<core::Error> decode_error(std::string_view body);

}  // namespace msg::data
