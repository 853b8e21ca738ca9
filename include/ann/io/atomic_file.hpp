#pragma once
// The one way ann writes a file, so that readers see either the old content or the complete new
// content, never a mix, even if the process dies or the disk fills up half-way:
//   1. write everything to a temporary "<path>.tmp.<pid>.<n>" in the same folder (same file
//      system, so the rename below is atomic), created with O_EXCL so two writers never share one;
//   2. fsync it, so its data is on disk before its name is;
//   3. rename it over <path>: the old file stays valid until this instant;
//   4. fsync the folder, so the rename itself survives a power cut.
// Any failure (folder missing or unwritable, disk full, a fill callback that throws) removes
// the temporary file and throws ann::Error naming <path> and the system's reason; the file
// under <path>, if there was one, is left as it was. POSIX only.
//
// Temporaries left by a process that was killed (SIGKILL, power loss) carry its pid in their
// name: remove_stale_temporaries(folder) removes those of dead processes, and nothing else.
// While a write is in flight its temporary is listed where a signal handler can unlink it
// (io/signals.hpp), so Ctrl-C leaves nothing behind either.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

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

// Temporaries being written right now, as fixed buffers a signal handler may read (no
// allocation, no locks: a slot is claimed with an atomic flag). Longer paths are not listed;
// the next start's remove_stale_temporaries still finds them.
struct InflightSlot {
    std::atomic<bool> used{false};
    char path[4096];
};
inline InflightSlot* inflight_slots() {
    static InflightSlot slots[16];
    return slots;
}
inline int inflight_add(const std::string& tmp) {
    if (tmp.size() >= sizeof(InflightSlot::path)) return -1;
    InflightSlot* s = inflight_slots();
    for (int i = 0; i < 16; ++i) {
        bool expected = false;
        if (s[i].used.load() || !s[i].used.compare_exchange_strong(expected, true)) continue;
        std::memcpy(s[i].path, tmp.c_str(), tmp.size() + 1);
        return i;
    }
    return -1;
}
inline void inflight_remove(int slot) {
    if (slot >= 0) inflight_slots()[slot].used.store(false);
}

// "<path>.tmp.<pid>.<n>" -> pid, or 0 if the name is not one of ours.
inline pid_t temp_owner(const std::string& name) {
    const auto at = name.rfind(".tmp.");
    if (at == std::string::npos || at == 0) return 0;
    const std::string rest = name.substr(at + 5);
    const auto dot = rest.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == rest.size()) return 0;
    const std::string pid = rest.substr(0, dot), n = rest.substr(dot + 1);
    if (pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos ||
        n.find_first_not_of("0123456789") != std::string::npos)
        return 0;
    return static_cast<pid_t>(std::stol(pid));
}
}  // namespace detail

// A fresh name beside `path` for a temporary file or folder of this process.
inline std::string temp_path_for(const std::string& path) {
    static std::atomic<unsigned> counter{0};
    return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

// Unlinks the temporaries of the writes in flight. Async-signal-safe (unlink only).
inline void remove_inflight_temporaries() noexcept {
    detail::InflightSlot* s = detail::inflight_slots();
    for (int i = 0; i < 16; ++i)
        if (s[i].used.load()) ::unlink(s[i].path);
}

// Removes, directly inside `folder`, the temporaries (files, or folders such as the CIFAR-10
// extraction's) named by temp_path_for whose process no longer runs. Returns what it removed.
inline std::vector<std::string> remove_stale_temporaries(const std::string& folder) {
    namespace fs = std::filesystem;
    std::vector<std::string> removed;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(folder, ec)) {
        const pid_t pid = detail::temp_owner(e.path().filename().string());
        if (pid <= 0 || pid == ::getpid()) continue;
        if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
        std::error_code rm;
        fs::remove_all(e.path(), rm);
        if (!rm) removed.push_back(e.path().string());
    }
    return removed;
}

// fsyncs a folder so that renames into it survive a power cut; `what` names the file for errors.
inline void sync_folder(const std::string& dir, const std::string& what) {
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        fail("wrote '", what, "' but cannot open its folder '", dir, "' to make it durable: ", detail::errno_text(errno));
    const int rc = ::fsync(dfd);
    const int err = errno;
    ::close(dfd);
    // Some file systems cannot fsync a folder (EINVAL); they have nothing to flush for it.
    if (rc != 0 && err != EINVAL && err != ENOTSUP)
        fail("wrote '", what, "' but fsync of its folder '", dir, "' failed: ", detail::errno_text(err));
}

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
            if (n == 0) fail("cannot write '", path_, "': the system wrote 0 bytes");
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
    std::string tmp;
    int fd = -1;
    for (int attempt = 0; fd < 0; ++attempt) {
        tmp = temp_path_for(path);
        fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && (errno != EEXIST || attempt == 100))  // EEXIST: a stale file from a dead process
            fail("cannot write '", path, "': cannot create '", tmp, "': ", detail::errno_text(errno));
    }
    const int slot = detail::inflight_add(tmp);
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
        detail::inflight_remove(slot);
        throw;
    }
    detail::inflight_remove(slot);
    // The new file is complete under its name; make the rename durable too.
    sync_folder(detail::parent_dir(path), path);
}

inline void write_file_atomic(const std::string& path, std::string_view bytes) {
    write_file_atomic(path, [bytes](AtomicFileWriter& w) { w.write(bytes); });
}

}  // namespace ann::io
