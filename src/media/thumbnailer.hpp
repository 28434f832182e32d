#pragma once

// Image thumbnails with libvips (Debian `libvips-dev`). Synchronous and CPU-bound: callers run
// it on the BlockingPool, never on an I/O thread. libvips stays inside thumbnailer.cpp.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace msg::media {

struct ThumbnailLimits {
    std::size_t max_input_bytes = 32 * 1024 * 1024;
    std::uint64_t max_pixels = 50'000'000;  // width × height from the header, before decoding
    int size = 320;                         // square, centre crop
    int jpeg_quality = 85;
};

/// Starts libvips once per process (idempotent, thread-safe); false if it cannot start.
bool init_vips();

/// A `size`×`size` centre-cropped JPEG of a JPEG, PNG, WebP or GIF image. Refused (400-class
/// Error, nothing decoded): more than max_input_bytes, another or unknown format, or a header
/// declaring more than max_pixels (decompression bombs). A decoder failure is an error too.
core::Result<std::string> make_thumbnail(std::string_view image, const ThumbnailLimits& limits);

}  // namespace msg::media
