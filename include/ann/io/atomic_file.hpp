#pragma once
// The one way ann writes a file, so that readers see either the old content or the complete new
// content, never a mix, even if the process dies or the disk fills up half-way:
//   1. write everything to a temporary "<path>.tmp.ann.<pid>.<n>" in the same folder (same file
//      system, so the rename below is atomic), created with O_EXCL so two writers never share one,
//      and flock'ed while it is written;
//   2. fsync it, so its data is on disk before its name is;
//   3. rename it over <path>: the old file stays valid until this instant;
//   4. fsync the folder, so the rename itself survives a power cut.
// Any failure (folder missing or unwritable, disk full, a fill callback that throws) removes
// the temporary file and throws ann::Error naming <path> and the system's reason; the file
// under <path>, if there was one, is left as it was. POSIX only.
//
// Temporaries left by a process that was killed (SIGKILL, power loss) are found by
// remove_stale_temporaries(folder): an entry named "*.tmp.ann.<pid>.<n>", owned by this user,
// whose lock nobody holds. A live writer holds its lock (released by the kernel however the
// process ends), so no pid guessing is involved: pid reuse, containers where every run is
// pid 1 and writers on other machines sharing the folder are all safe. While a write is in
// flight its temporary is also listed where a signal handler can unlink it (io/signals.hpp),
// so Ctrl-C leaves nothing behind either.
#include <fcntl.h>
#include <sys/file.h>
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
    std::atomic<bool> used{false};   // claimed by a writer
    std::atomic<bool> ready{false};  // path holds the whole name: only then may a handler unlink it
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
        s[i].ready.store(true, std::memory_order_release);
        return i;
    }
    return -1;
}
inline void inflight_remove(int slot) {
    if (slot < 0) return;
    inflight_slots()[slot].ready.store(false, std::memory_order_release);
    inflight_slots()[slot].used.store(false);
}

constexpr const char* kTempTag = ".tmp.ann.";

// True for "<something>.tmp.ann.<digits>.<digits>": a name temp_path_for gives.
inline bool is_temp_name(const std::string& name) {
    const auto at = name.rfind(kTempTag);
    if (at == std::string::npos || at == 0) return false;
    const std::string rest = name.substr(at + std::strlen(kTempTag));
    const auto dot = rest.find('.');
    return dot != std::string::npos && dot > 0 && dot + 1 < rest.size() &&
           rest.find_first_not_of("0123456789.") == std::string::npos && rest.find('.', dot + 1) == std::string::npos;
}

// True if nobody holds the entry's lock (its writer has ended), checked without blocking.
inline bool unlocked(const std::string& path, bool folder) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW | (folder ? O_DIRECTORY : 0));
    if (fd < 0) return false;
    const bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    ::close(fd);
    return free;
}
}  // namespace detail

// A fresh name beside `path` for a temporary file or folder of this process. Whoever creates it
// holds a flock on it while it is in use (lock_temporary), or a later remove_stale_temporaries
// may take it for a leftover.
inline std::string temp_path_for(const std::string& path) {
    static std::atomic<unsigned> counter{0};
    return path + detail::kTempTag + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

// Opens and locks a temporary folder (or file) made under a temp_path_for name; the lock lasts
// until the returned descriptor is closed. Returns -1 (and sets errno) on failure.
inline int lock_temporary(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return -1;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        ::close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

// Unlinks the temporaries of the writes in flight. Async-signal-safe (unlink only).
inline void remove_inflight_temporaries() noexcept {
    detail::InflightSlot* s = detail::inflight_slots();
    for (int i = 0; i < 16; ++i)
        if (s[i].ready.load(std::memory_order_acquire)) ::unlink(s[i].path);
}

// Removes, directly inside `folder`, the temporaries (files, or folders such as the CIFAR-10
// extraction's) that temp_path_for named, that this user owns and whose lock no writer holds.
// Nothing else is touched (not symbolic links, not other users' files). Returns what it removed.
inline std::vector<std::string> remove_stale_temporaries(const std::string& folder) {
    namespace fs = std::filesystem;
    std::vector<std::string> removed;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(folder, ec)) {
        const std::string p = e.path().string();
        struct stat st {};
        if (!detail::is_temp_name(e.path().filename().string()) || ::lstat(p.c_str(), &st) != 0) continue;
        if (st.st_uid != ::geteuid() || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) continue;
        if (!detail::unlocked(p, S_ISDIR(st.st_mode))) continue;  // a writer is at work
        std::error_code rm;
        fs::remove_all(e.path(), rm);
        if (!rm) removed.push_back(p);
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
    ::flock(fd, LOCK_EX | LOCK_NB);  // ours alone (O_EXCL): marks it in use for stale-file sweeps
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
