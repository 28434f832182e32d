// The main() of a fuzz target outside libFuzzer (the GCC builds): runs the target once over
// every file of the given corpus directories (or files), so `ctest` replays the committed
// corpora as a regression test. An invariant that fails aborts, as under libFuzzer. An empty
// corpus fails: a replay that ran nothing would pass without testing anything.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {
int run_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    return 1;
}
}  // namespace

int main(int argc, char** argv) {
    std::size_t ran = 0;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path arg(argv[i]);
        if (std::filesystem::is_directory(arg)) {
            for (const auto& entry : std::filesystem::directory_iterator(arg)) {
                if (entry.is_regular_file()) ran += run_file(entry.path());
            }
        } else {
            ran += run_file(arg);
        }
    }
    std::printf("replayed %zu input(s)\n", ran);
    return ran > 0 ? 0 : 1;
}
