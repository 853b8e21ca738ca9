#pragma once
// The one guard in front of every input file ann reads:
//   open_input(path, max_bytes)   a regular file (not a folder, FIFO, socket or device such as
//                                 /dev/zero: those would hang, or have no size to check) no
//                                 larger than max_bytes, opened without blocking;
//   read_file(path, max_bytes)    its whole content.
// Errors are ann::Error naming the path, the reason and, for size, the limit. Callers pass the
// largest file their format can need, so a huge or endless input is refused before anything is
// allocated for it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "ann/core/error.hpp"
#include "ann/io/atomic_file.hpp"

namespace ann::io {

// 1 GiB: the most any of ann's inputs may be unless its reader says less.
constexpr std::uint64_t kMaxInputBytes = std::uint64_t(1) << 30;

// An open file descriptor that closes itself.
class InputFile {
public:
    InputFile(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
    InputFile(InputFile&& o) noexcept : fd_(o.fd_), size_(o.size_) { o.fd_ = -1; }
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;
    InputFile& operator=(InputFile&&) = delete;
    ~InputFile() {
        if (fd_ >= 0) ::close(fd_);
    }
    int fd() const { return fd_; }
    std::uint64_t size() const { return size_; }
    // Hands the descriptor over (e.g. to zlib's gzdopen, which closes it).
    int release() {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }

private:
    int fd_;
    std::uint64_t size_;
};

inline const char* file_kind(mode_t m) {
    if (S_ISDIR(m)) return "a folder";
    if (S_ISFIFO(m)) return "a FIFO (named pipe)";
    if (S_ISSOCK(m)) return "a socket";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    return "not a regular file";
}

inline InputFile open_input(const std::string& path, std::uint64_t max_bytes = kMaxInputBytes) {
    // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) fail("cannot read '", path, "': ", detail::errno_text(errno));
    InputFile f(fd, 0);
    struct stat st {};
    if (::fstat(fd, &st) != 0) fail("cannot read '", path, "': ", detail::errno_text(errno));
    if (!S_ISREG(st.st_mode)) fail("cannot read '", path, "': it is ", file_kind(st.st_mode), " (expected a regular file)");
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size > max_bytes)
        fail("cannot read '", path, "': it has ", size, " bytes, more than the ", max_bytes, " this input may have");
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return InputFile(f.release(), size);
}

inline std::string read_file(const std::string& path, std::uint64_t max_bytes = kMaxInputBytes) {
    InputFile f = open_input(path, max_bytes);
    std::string out;
    out.reserve(static_cast<std::size_t>(f.size()));
    char buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(f.fd(), buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("cannot read '", path, "': ", detail::errno_text(errno));
        }
        // A file growing while read (or a /proc-like file lying about its size) stays bounded.
        if (out.size() + static_cast<std::size_t>(n) > max_bytes)
            fail("cannot read '", path, "': it grew past the ", max_bytes, " bytes this input may have");
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

}  // namespace ann::io
