#include "media/thumbnailer.hpp"

#include <vips/vips.h>

#include <mutex>

namespace msg::media {

namespace {

std::string vips_failure() {
    std::string message = vips_error_buffer();
    vips_error_clear();
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
        message.pop_back();
    }
    return message;
}

bool allowed_loader(std::string_view loader) {
    for (std::string_view ok :
         {"VipsForeignLoadJpegBuffer", "VipsForeignLoadPngBuffer", "VipsForeignLoadWebpBuffer",
          "VipsForeignLoadGifBuffer", "VipsForeignLoadNsgifBuffer"}) {
        if (loader == ok) return true;
    }
    return false;
}

}  // namespace

bool init_vips() {
    static std::once_flag once;
    static bool ok = false;
    std::call_once(once, [] {
        ok = VIPS_INIT("msg_server") == 0;
        if (ok) {
            vips_cache_set_max(0);    // no operation cache: every call decodes afresh
            vips_concurrency_set(1);  // parallelism comes from the BlockingPool
        }
    });
    return ok;
}

core::Result<std::string> make_thumbnail(std::string_view image, const ThumbnailLimits& limits) {
    if (!init_vips()) return core::invalid("image support is unavailable");
    if (image.size() > limits.max_input_bytes) return core::invalid("image is too large");
    const char* loader = vips_foreign_find_load_buffer(image.data(), image.size());
    if (!loader) {
        vips_error_clear();
        return core::invalid("not an image");
    }
    if (!allowed_loader(loader)) return core::invalid("unsupported image format");

    // The header only (lazy, sequential): refuse what would be too big to decode.
    VipsImage* header = vips_image_new_from_buffer(image.data(), image.size(), "", "access",
                                                   VIPS_ACCESS_SEQUENTIAL, nullptr);
    if (!header) return core::invalid("image cannot be read: " + vips_failure());
    const auto pixels = static_cast<std::uint64_t>(vips_image_get_width(header)) *
                        static_cast<std::uint64_t>(vips_image_get_height(header));
    g_object_unref(header);
    if (pixels == 0 || pixels > limits.max_pixels)
        return core::invalid("image has too many pixels");

    VipsImage* thumb = nullptr;
    // vips_thumbnail_buffer takes a non-const pointer but does not write through it.
    if (vips_thumbnail_buffer(const_cast<char*>(image.data()), image.size(), &thumb, limits.size,
                              "height", limits.size, "crop", VIPS_INTERESTING_CENTRE,
                              "option_string", "fail_on=error", nullptr) != 0) {
        return core::invalid("thumbnail failed: " + vips_failure());
    }
    void* out = nullptr;
    size_t out_len = 0;
    const int rc = vips_jpegsave_buffer(thumb, &out, &out_len, "Q", limits.jpeg_quality, "strip",
                                        TRUE, nullptr);
    g_object_unref(thumb);
    if (rc != 0) return core::invalid("thumbnail encoding failed: " + vips_failure());
    std::string jpeg(static_cast<const char*>(out), out_len);
    g_free(out);
    return jpeg;
}

}  // namespace msg::media
