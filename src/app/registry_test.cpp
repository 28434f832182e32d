// Every data operation declared in the sources is registered for the dbman wire: an operation
// without its registration line would run locally and fail on every node behind dbman.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "app/backends.hpp"

namespace msg::app {
namespace {

std::set<std::string> declared_operations() {
    std::set<std::string> out;
    const std::regex name(R"re(static constexpr std::string_view kName = "([^"]+)")re");
    for (const auto& f : std::filesystem::recursive_directory_iterator(MSG_SOURCE_DIR)) {
        if (f.path().extension() != ".hpp") continue;
        std::ifstream in(f.path());
        std::stringstream text;
        text << in.rdbuf();
        const std::string s = text.str();
        for (std::sregex_iterator it(s.begin(), s.end(), name), end; it != end; ++it) {
            out.insert((*it)[1]);
        }
    }
    return out;
}

TEST(OperationRegistry, RegistersEveryOperationTheSourcesDeclare) {
    // (The example in data/executor.hpp's comment names a real operation.)
    const auto declared = declared_operations();
    std::set<std::string> registered;
    for (auto n : operation_registry().names()) registered.emplace(n);
    EXPECT_GE(declared.size(), 50u);  // the scan found the operation headers
    for (const auto& d : declared) EXPECT_TRUE(registered.count(d)) << d << " is not registered";
    for (const auto& r : registered) EXPECT_TRUE(declared.count(r)) << r << " is not declared";
}

}  // namespace
}  // namespace msg::app
