#pragma once
// Writes a file so that readers see either the old content or the complete new content,
// never a mix, even if the process dies or the disk fills up half-way:
//   1. write everything to "<path>.tmp.<pid>.<n>" in the same folder (same file system, so
//      the rename below is atomic), created with O_EXCL so two writers never share one;
//   2. fsync it, so its data is on disk before its name is;
//   3. rename it over <path>: the old file stays valid until this instant;
//   4. fsync the folder, so the rename itself survives a power cut.
// Any failure (folder missing or unwritable, disk full, a fill callback that throws) removes
// the temporary file and throws ann::Error naming <path> and the system's reason; the file
// under <path>, if there was one, is left as it was. POSIX only.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>

#include "ann/core/error.hpp"

namespace ann::io {

namespace detail {
inline std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

inline std::string parent_dir(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}
}  // namespace detail

// What a fill callback writes to: the temporary file behind an atomic write.
class AtomicFileWriter {
public:
    AtomicFileWriter(int fd, const std::string& path) : fd_(fd), path_(path) {}
    void write(std::string_view bytes) {
        while (!bytes.empty()) {
            const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                fail("cannot write '", path_, "': ", detail::errno_text(errno));
            }
            bytes.remove_prefix(static_cast<std::size_t>(n));
            written_ += static_cast<std::size_t>(n);
        }
    }
    std::size_t bytes_written() const { return written_; }

private:
    int fd_;
    const std::string& path_;
    std::size_t written_ = 0;
};

// Streams the content through fill(writer), for content too large to build in memory first.
inline void write_file_atomic(const std::string& path, const std::function<void(AtomicFileWriter&)>& fill) {
    if (path.empty()) fail("cannot write a file with an empty path");
    static std::atomic<unsigned> counter{0};
    std::string tmp;
    int fd = -1;
    for (int attempt = 0; fd < 0; ++attempt) {
        tmp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
        fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && (errno != EEXIST || attempt == 100))  // EEXIST: a stale file from a dead process
            fail("cannot write '", path, "': cannot create '", tmp, "': ", detail::errno_text(errno));
    }
    try {
        AtomicFileWriter writer(fd, path);
        fill(writer);
        if (::fsync(fd) != 0) fail("cannot write '", path, "': fsync failed: ", detail::errno_text(errno));
        const int to_close = fd;
        fd = -1;
        // close can report a delayed write error (NFS, quota): the data may not be there.
        if (::close(to_close) != 0) fail("cannot write '", path, "': close failed: ", detail::errno_text(errno));
        if (::rename(tmp.c_str(), path.c_str()) != 0)
            fail("cannot write '", path, "': cannot rename '", tmp, "' to it: ", detail::errno_text(errno));
    } catch (...) {
        if (fd >= 0) ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    // The new file is complete under its name; make the rename durable too.
    const std::string dir = detail::parent_dir(path);
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        fail("wrote '", path, "' but cannot open its folder '", dir, "' to make it durable: ", detail::errno_text(errno));
    const int rc = ::fsync(dfd);
    const int err = errno;
    ::close(dfd);
    // Some file systems cannot fsync a folder (EINVAL); they have nothing to flush for it.
    if (rc != 0 && err != EINVAL && err != ENOTSUP)
        fail("wrote '", path, "' but fsync of its folder '", dir, "' failed: ", detail::errno_text(err));
}

inline void write_file_atomic(const std::string& path, std::string_view bytes) {
    write_file_atomic(path, [bytes](AtomicFileWriter& w) { w.write(bytes); });
}

}  // namespace ann::io
