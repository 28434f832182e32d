#include "core/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "core/random.hpp"

namespace msg::core {

namespace fs = std::filesystem;

void fsync_path(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open " + path.string());
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) throw std::runtime_error("fsync failed: " + path.string());
}

fs::path temp_path_for(const fs::path& target) {
    return fs::path(target).concat(".tmp-" + random_hex(8));
}

void commit_file(const fs::path& temp, const fs::path& target) {
    fsync_path(temp);
    fs::rename(temp, target);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    fsync_path(dir);  // the rename itself is durable only once the directory is
}

bool commit_new_file(const fs::path& temp, const fs::path& target) {
    fsync_path(temp);
    const int rc = ::link(temp.c_str(), target.c_str());
    const int err = errno;
    std::error_code ignored;
    fs::remove(temp, ignored);
    if (rc != 0 && err == EEXIST) return false;
    if (rc != 0) throw std::system_error(err, std::generic_category(), "link " + target.string());
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    fsync_path(dir);
    return true;
}

void write_file_atomically(const fs::path& target, std::string_view data) {
    const fs::path temp = temp_path_for(target);
    try {
        const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) throw std::runtime_error("cannot create " + temp.string());
        std::size_t written = 0;
        while (written < data.size()) {
            const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                ::close(fd);
                throw std::runtime_error("cannot write " + temp.string());
            }
            written += static_cast<std::size_t>(n);
        }
        if (::close(fd) != 0) throw std::runtime_error("cannot write " + temp.string());
        commit_file(temp, target);
    } catch (...) {
        std::error_code ignored;
        fs::remove(temp, ignored);
        throw;
    }
}

}  // namespace msg::core
