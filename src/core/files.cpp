#include "core/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>

namespace msg::core {

void fsync_path(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) throw std::runtime_error("cannot open " + path.string());
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) throw std::runtime_error("fsync failed: " + path.string());
}

}  // namespace msg::core
