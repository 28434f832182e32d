// Thumbnail cost of one large photo: bench/run.sh thumbnail (or run directly: WIDTH, HEIGHT,
// RUNS from the environment). Makes a WIDTH×HEIGHT JPEG with noise (so it compresses like a
// photo), then times make_thumbnail RUNS times and reports p50/max and the process's peak RSS.
#include <sys/resource.h>
#include <vips/vips.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "media/thumbnailer.hpp"

int main() {
    auto env = [](const char* name, int fallback) {
        const char* v = std::getenv(name);
        return v ? std::atoi(v) : fallback;
    };
    const int width = env("WIDTH", 4000), height = env("HEIGHT", 3000), runs = env("RUNS", 10);
    if (!msg::media::init_vips()) return 1;
    VipsImage* noise = nullptr;
    VipsImage* rgb = nullptr;
    VipsImage* u8 = nullptr;
    vips_gaussnoise(&noise, width, height, "mean", 128.0, "sigma", 40.0, nullptr);
    VipsImage* bands[3] = {noise, noise, noise};
    vips_bandjoin(bands, &rgb, 3, nullptr);
    vips_cast_uchar(rgb, &u8, nullptr);
    void* buf = nullptr;
    size_t len = 0;
    if (vips_jpegsave_buffer(u8, &buf, &len, "Q", 90, nullptr) != 0) return 1;
    const std::string jpeg(static_cast<const char*>(buf), len);
    g_free(buf);
    g_object_unref(u8);
    g_object_unref(rgb);
    g_object_unref(noise);
    rusage before{};
    getrusage(RUSAGE_SELF, &before);

    std::vector<double> ms;
    msg::media::ThumbnailLimits limits;
    for (int i = 0; i < runs; ++i) {
        const auto t = std::chrono::steady_clock::now();
        auto thumb = msg::media::make_thumbnail(jpeg, limits);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t)
                         .count());
        if (!thumb) {
            std::fprintf(stderr, "thumbnail failed: %s\n", thumb.error().message.c_str());
            return 1;
        }
    }
    std::sort(ms.begin(), ms.end());
    rusage after{};
    getrusage(RUSAGE_SELF, &after);
    std::printf(
        "input %dx%d JPEG %.1f MB; %d runs: p50 %.1f ms, max %.1f ms; peak RSS %.1f MB "
        "(%.1f MB before the first thumbnail, with the input in memory)\n",
        width, height, static_cast<double>(len) / 1e6, runs, ms[ms.size() / 2], ms.back(),
        static_cast<double>(after.ru_maxrss) / 1024.0,
        static_cast<double>(before.ru_maxrss) / 1024.0);
}
