#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace msg::testing {

/// A fresh directory under the system temp dir, removed with everything in it at scope end.
struct TempDir {
    TempDir()
        : path(std::filesystem::temp_directory_path() /
               ("msg_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++))) {
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::filesystem::path path;
    static inline int counter = 0;
};

}  // namespace msg::testing
