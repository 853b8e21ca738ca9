#pragma once
// The whole content of a (binary) file, or an ann::Error naming the path and the reason.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "ann/core/error.hpp"
#include "ann/io/atomic_file.hpp"

namespace ann::io {

inline std::string read_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("cannot read '", path, "': ", detail::errno_text(errno));
    std::string out;
    try {
        struct stat st {};
        if (::fstat(fd, &st) != 0) fail("cannot read '", path, "': ", detail::errno_text(errno));
        if (S_ISDIR(st.st_mode)) fail("cannot read '", path, "': it is a folder");
        if (st.st_size > 0) out.reserve(static_cast<std::size_t>(st.st_size));
        char buf[1 << 16];
        for (;;) {
            const ssize_t n = ::read(fd, buf, sizeof buf);
            if (n == 0) break;
            if (n < 0) {
                if (errno == EINTR) continue;
                fail("cannot read '", path, "': ", detail::errno_text(errno));
            }
            out.append(buf, static_cast<std::size_t>(n));
        }
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    return out;
}

}  // namespace ann::io
