#pragma once

#include <filesystem>

namespace msg::core {

/// fsync(2) of a file or a directory (after writing a temp file, before renaming it into
/// place; of the directory after the rename). Throws std::runtime_error on failure.
void fsync_path(const std::filesystem::path& path);

}  // namespace msg::core
