#pragma once

#include <filesystem>
#include <string_view>

namespace msg::core {

/// fsync(2) of a file or a directory. Throws std::runtime_error on failure.
void fsync_path(const std::filesystem::path& path);

/// Puts a finished temp file in place so that a crash leaves the old file or the new one,
/// never a torn one: fsync the temp file, rename it over `target` (same directory), fsync the
/// directory. The one copy of that sequence (local blobs, streamed uploads, vector index
/// files). Throws std::runtime_error or std::filesystem::filesystem_error.
void commit_file(const std::filesystem::path& temp, const std::filesystem::path& target);
/// commit_file that never replaces: the temp file is linked to `target` (atomic, fails if it
/// exists) and then removed. False, and the temp file gone, when `target` exists.
bool commit_new_file(const std::filesystem::path& temp, const std::filesystem::path& target);

/// Writes `data` to a fresh temp file next to `target` and commits it (commit_file). On a
/// failure nothing is left behind and the exception propagates.
void write_file_atomically(const std::filesystem::path& target, std::string_view data);

/// A temp-file name next to `target` that no concurrent writer shares:
/// `<target>.tmp-<16 hex>`.
std::filesystem::path temp_path_for(const std::filesystem::path& target);

}  // namespace msg::core
