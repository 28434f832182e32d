#pragma once

#include <cstdint>

#include "blob/local_store.hpp"
#include "core/blocking.hpp"
#include "core/stream.hpp"

namespace msg::blob {

/// fileman's `PUT/GET /blobs/<key>?exp=&sig=` for the local store, streamed: an upload goes
/// in chunks to a temp file (never whole in memory), fsynced and renamed into place; a
/// download is sent in chunks. The signature (LocalBlobStore::verify) is the only
/// credential. 403 `invalid or expired signature`, 413 `upload too large` (more than
/// `max_upload_bytes`, refused from Content-Length before any byte is read), 404 `not found`,
/// 405 for other methods, 400 for a malformed key.
core::StreamRoute local_blob_route(LocalBlobStore& store, core::BlockingPool& blocking,
                                   std::uint64_t max_upload_bytes);

}  // namespace msg::blob
