#include <gtest/gtest.h>

#include <vips/vips.h>

#include <zlib.h>
#include <chrono>
#include <cstring>

#include "media/thumbnailer.hpp"

namespace msg::media {
namespace {

/// A w×h gradient image in `format` ("jpeg", "png", "webp", "gif", "tiff"), made by libvips.
std::string encode(const char* format, int w, int h) {
    EXPECT_TRUE(init_vips());
    VipsImage* base = nullptr;
    vips_xyz(&base, w, h, nullptr);  // 2 bands: x and y
    VipsImage* band = nullptr;
    vips_extract_band(base, &band, 0, nullptr);
    VipsImage* u8 = nullptr;
    vips_cast_uchar(band, &u8, nullptr);
    void* out = nullptr;
    size_t len = 0;
    const std::string f = format;
    int rc = -1;
    if (f == "jpeg") rc = vips_jpegsave_buffer(u8, &out, &len, nullptr);
    if (f == "png") rc = vips_pngsave_buffer(u8, &out, &len, nullptr);
    if (f == "webp") rc = vips_webpsave_buffer(u8, &out, &len, nullptr);
    if (f == "gif") rc = vips_gifsave_buffer(u8, &out, &len, nullptr);
    if (f == "tiff") rc = vips_tiffsave_buffer(u8, &out, &len, nullptr);
    g_object_unref(base);
    g_object_unref(band);
    g_object_unref(u8);
    EXPECT_EQ(rc, 0) << format << ": " << vips_error_buffer();
    std::string bytes(static_cast<const char*>(out), len);
    g_free(out);
    return bytes;
}

struct Decoded {
    std::string loader;
    int width = 0, height = 0;
};
Decoded inspect(const std::string& bytes) {
    Decoded d;
    const char* loader = vips_foreign_find_load_buffer(bytes.data(), bytes.size());
    d.loader = loader ? loader : "";
    VipsImage* img = vips_image_new_from_buffer(bytes.data(), bytes.size(), "", nullptr);
    if (img) {
        d.width = vips_image_get_width(img);
        d.height = vips_image_get_height(img);
        g_object_unref(img);
    }
    return d;
}

TEST(Thumbnailer, EveryAcceptedFormatBecomesA320SquareJpeg) {
    const ThumbnailLimits limits;
    for (const char* format : {"jpeg", "png", "webp", "gif"}) {
        const auto image = encode(format, 640, 200);  // wide: the centre is cropped
        auto thumb = make_thumbnail(image, limits);
        ASSERT_TRUE(thumb) << format << ": " << thumb.error().message;
        const auto d = inspect(*thumb);
        EXPECT_EQ(d.loader, "VipsForeignLoadJpegBuffer") << format;
        EXPECT_EQ(d.width, 320) << format;
        EXPECT_EQ(d.height, 320) << format;
    }
}

TEST(Thumbnailer, RefusesWhatItShouldNotDecode) {
    const ThumbnailLimits limits;
    EXPECT_EQ(make_thumbnail("hello, these bytes are text", limits).error().message,
              "not an image");
    // Documents are not thumbnailed, whether or not this libvips has a PDF loader.
    auto pdf = make_thumbnail("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", limits);
    ASSERT_FALSE(pdf);
    EXPECT_TRUE(pdf.error().message == "unsupported image format" ||
                pdf.error().message == "not an image")
        << pdf.error().message;
    EXPECT_EQ(make_thumbnail("", limits).error().message, "not an image");
    EXPECT_EQ(make_thumbnail(encode("tiff", 10, 10), limits).error().message,
              "unsupported image format");
    ThumbnailLimits tiny = limits;
    tiny.max_input_bytes = 100;
    EXPECT_EQ(make_thumbnail(encode("png", 300, 300), tiny).error().message, "image is too large");
    ThumbnailLimits few = limits;
    few.max_pixels = 100 * 100;
    EXPECT_EQ(make_thumbnail(encode("jpeg", 101, 100), few).error().message,
              "image has too many pixels");
    // A truncated JPEG: the header is fine, decoding fails cleanly.
    auto cut = encode("jpeg", 400, 400);
    cut.resize(cut.size() / 3);
    EXPECT_FALSE(make_thumbnail(cut, limits));
}

// A decompression bomb: a tiny PNG whose header claims 60000×60000 pixels. It is refused
// from the header, without allocating 3.6 G pixels.
TEST(Thumbnailer, DecompressionBombIsRefusedFromItsHeader) {
    std::string png = encode("png", 1, 1);
    // IHDR data starts at byte 16: width and height big-endian, then the CRC of type+data.
    auto put32 = [&](std::size_t at, std::uint32_t v) {
        for (int i = 0; i < 4; ++i) png[at + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xff);
    };
    put32(16, 60000);
    put32(20, 60000);
    const auto crc = crc32(0, reinterpret_cast<const Bytef*>(png.data() + 12), 17);
    put32(29, static_cast<std::uint32_t>(crc));
    const auto started = std::chrono::steady_clock::now();
    auto r = make_thumbnail(png, ThumbnailLimits{});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "image has too many pixels");
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

}  // namespace
}  // namespace msg::media
