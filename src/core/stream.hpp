#pragma once

// Requests whose bodies are streamed instead of buffered (the local blob store's /blobs
// routes): the handler reads the request body and writes the response in chunks. No Beast.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/http.hpp"
#include "core/task.hpp"

namespace msg::core {

/// The connection, for one streamed exchange. Errors (peer gone, timeout) throw.
class StreamIo {
  public:
    virtual ~StreamIo() = default;
    /// Up to `max` body bytes into `data`; 0 at the end of the body.
    virtual Task<std::size_t> read_some(char* data, std::size_t max) = 0;
    /// The status line and headers; with `content_length` the body is exactly that long.
    /// `attachment`: a download (`Content-Disposition: attachment`), never shown inline. Every
    /// answer also carries `X-Content-Type-Options: nosniff` and `Cache-Control: no-store`.
    virtual Task<void> write_head(unsigned status, std::string_view content_type,
                                  std::uint64_t content_length, bool attachment) = 0;
    virtual Task<void> write(std::string_view chunk) = 0;
};

struct StreamRequest {
    Method method = Method::other;
    std::string path;   // raw (percent-encoded) path
    std::string query;  // raw
    std::optional<std::uint64_t> content_length;
    std::string content_type;  // the Content-Type header, as sent
    std::string remote_ip;
};

/// Every request whose path starts with `prefix` goes to `handler` (which must answer);
/// the connection closes afterwards.
struct StreamRoute {
    std::string prefix;
    std::function<Task<void>(const StreamRequest&, StreamIo&)> handler;
};

}  // namespace msg::core
