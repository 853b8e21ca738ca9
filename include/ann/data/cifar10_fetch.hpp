#pragma once
// Getting CIFAR-10 onto disk: download the official archive (by curl or wget), or take a
// local copy, extract the six batch files and check them against the published MD5s.
// Extraction goes to a temporary folder whose files are moved into place only after every one
// has been verified, so a failed or interrupted run never leaves a bad batch file, and never
// deletes anything it did not write.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "ann/data/cifar10.hpp"
#include "ann/data/md5.hpp"
#include "ann/data/tar_gz.hpp"
#include "ann/io/atomic_file.hpp"
#include "ann/io/shell_quote.hpp"
#include "ann/io/signals.hpp"

namespace ann::data {

inline const char* cifar10_url() { return "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"; }
inline const char* cifar10_archive_name() { return "cifar-10-binary.tar.gz"; }
inline const char* cifar10_folder_name() { return "cifar-10-batches-bin"; }

// The folder holding the batch files, given a data folder (or that folder itself).
inline std::string cifar10_dir(const std::string& data_dir) {
    namespace fs = std::filesystem;
    const fs::path d(data_dir);
    if (d.filename() == cifar10_folder_name()) return d.string();
    return (d / cifar10_folder_name()).string();
}

// True if all six files exist with the right size (cheap; the MD5 check is separate).
inline bool cifar10_present(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (const auto& f : cifar10_files()) {
        const auto p = fs::path(dir) / f.name;
        if (!fs::is_regular_file(p, ec) || fs::file_size(p, ec) != kCifarFileBytes) return false;
    }
    return true;
}

// Checks the six files: present, right size, published MD5. Throws naming the first bad one.
inline void verify_cifar10(const std::string& dir) {
    namespace fs = std::filesystem;
    for (const auto& f : cifar10_files()) {
        const std::string p = (fs::path(dir) / f.name).string();
        std::error_code ec;
        if (!fs::is_regular_file(p, ec)) fail(p, ": missing (no such file)");
        const auto size = fs::file_size(p, ec);
        if (size != kCifarFileBytes) fail(p, ": wrong size ", size, " bytes, expected ", kCifarFileBytes);
        check_cifar_md5(p, f.md5);
    }
}

// The tar stream of the official archive is 184,391,680 bytes; nothing larger is read.
constexpr std::uint64_t kCifarTarMaxBytes = std::uint64_t(192) << 20;
// batches.meta.txt is 61 bytes in the official release.
constexpr std::uint64_t kCifarMetaMaxBytes = 4096;

// Extracts the six batch files (and batches.meta.txt) from `archive` into
// data_dir/cifar-10-batches-bin. They are written (io::write_file_atomic) into a fresh, locked
// temporary folder inside it (the same file system, even where the folder is a link elsewhere)
// and verified there; only then is each moved into place by name. Nothing else in the target
// folder is touched: files the user put there stay. Returns the files that were replaced
// (already there before). Every member's size is known in advance and checked before any of
// its bytes are written.
inline std::vector<std::string> extract_cifar10(const std::string& archive, const std::string& data_dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    io::open_input(archive, std::uint64_t(1) << 30);  // names a missing file, folder or FIFO now
    fs::create_directories(data_dir, ec);
    if (ec) fail(data_dir, ": cannot create folder (", ec.message(), ")");
    const fs::path target = fs::path(data_dir) / cifar10_folder_name();
    const bool had_target = fs::exists(target, ec);
    if (had_target && !fs::is_directory(target, ec))
        fail(target.string(), ": exists and is not a folder (expected the folder of the six batch files)");
    fs::create_directories(target, ec);
    if (ec) fail(target.string(), ": cannot create folder (", ec.message(), ")");
    io::remove_stale_temporaries(target.string());  // a killed extraction's folder: 80-180 MB
    const fs::path tmp = io::temp_path_for((target / "extract").string());
    // Removes the temporary folder (ours alone), and the target folder if this call made it and
    // it stayed empty, on every way out; the lock marks the folder in use until then.
    struct Cleanup {
        fs::path tmp, target;
        bool remove_target;
        int lock = -1;
        ~Cleanup() {
            std::error_code e;
            fs::remove_all(tmp, e);
            if (lock >= 0) ::close(lock);
            if (remove_target && fs::is_empty(target, e)) fs::remove(target, e);
        }
    } cleanup{tmp, target, !had_target};
    fs::create_directory(tmp, ec);
    if (ec) fail(tmp.string(), ": cannot create folder (", ec.message(), ")");
    cleanup.lock = io::lock_temporary(tmp.string());

    struct Wanted {
        std::string name;
        std::uint64_t size;  // exact for the batches, an upper bound for the meta file
        bool seen = false;
    };
    std::map<std::string, Wanted> wanted;  // member path -> file
    for (const auto& f : cifar10_files())
        wanted[std::string(cifar10_folder_name()) + "/" + f.name] = {f.name, kCifarFileBytes};
    wanted[std::string(cifar10_folder_name()) + "/batches.meta.txt"] = {"batches.meta.txt", kCifarMetaMaxBytes};
    // One member is held in memory (at most 30.7 MB) and written as a whole when it ends.
    std::string pending_name, pending;
    auto flush = [&] {
        if (pending_name.empty()) return;
        io::write_file_atomic((tmp / pending_name).string(), pending);
        pending_name.clear();
        pending = std::string();
    };
    read_tar_gz(
        archive,
        [&](const TarEntry& e) -> SinkFn {
            if (io::stop_requested()) fail(archive, ": extraction interrupted");
            flush();
            std::string p = e.path;
            if (p.compare(0, 2, "./") == 0) p = p.substr(2);
            auto it = wanted.find(p);
            if (it == wanted.end() || it->second.seen) return {};
            Wanted& w = it->second;
            const bool exact = w.size == kCifarFileBytes;
            if (exact ? e.size != w.size : e.size > w.size)
                fail(archive, ": member ", p, " declares ", e.size, " bytes, expected ", exact ? "exactly " : "at most ",
                     w.size, " (not the CIFAR-10 binary release?)");
            w.seen = true;
            pending_name = w.name;
            pending.reserve(static_cast<std::size_t>(e.size));
            return [&](const char* d, std::size_t n) { pending.append(d, n); };
        },
        kCifarTarMaxBytes);
    flush();
    for (const auto& f : cifar10_files())
        if (!wanted[std::string(cifar10_folder_name()) + "/" + f.name].seen)
            fail(archive, ": has no member ", cifar10_folder_name(), "/", f.name, " (not the CIFAR-10 binary release?)");
    try {
        verify_cifar10(tmp.string());
    } catch (const Error& e) {
        fail(archive, ": extracted file is bad: ", e.what());
    }
    std::vector<std::string> replaced;
    for (const auto& [member, w] : wanted) {
        if (!w.seen) continue;
        const fs::path from = tmp / w.name, to = target / w.name;
        if (fs::exists(to, ec)) replaced.push_back(to.string());
        fs::rename(from, to, ec);
        if (ec) fail(to.string(), ": cannot move the extracted file into place (", ec.message(), ")");
    }
    io::sync_folder(target.string(), target.string());
    cleanup.remove_target = false;
    return replaced;
}

// The official archive, downloaded under a temporary name in the data folder (locked while it
// exists). It is removed when this object goes away, unless keep() moved it into place.
class Cifar10Download {
public:
    Cifar10Download(std::string path, std::string dest, int lock) : path_(std::move(path)), dest_(std::move(dest)), lock_(lock) {}
    ~Cifar10Download() {
        if (!path_.empty()) ::unlink(path_.c_str());
        if (lock_ >= 0) ::close(lock_);
    }
    Cifar10Download(const Cifar10Download&) = delete;
    Cifar10Download& operator=(const Cifar10Download&) = delete;
    const std::string& path() const { return path_; }
    const std::string& dest() const { return dest_; }
    // Moves the download to dest (data_dir/cifar-10-binary.tar.gz), unless a file is there
    // already: a user's archive is never replaced. Returns whether it moved.
    bool keep() {
        std::error_code ec;
        if (std::filesystem::exists(dest_, ec)) return false;
        if (::fsync(lock_) != 0) fail(path_, ": fsync failed: ", io::detail::errno_text(errno));
        std::filesystem::rename(path_, dest_, ec);
        if (ec) fail(dest_, ": cannot rename the download into place (", ec.message(), ")");
        path_.clear();
        io::sync_folder(io::detail::parent_dir(dest_), dest_);
        return true;
    }

private:
    std::string path_, dest_;
    int lock_;
};

// Downloads the official archive into data_dir with curl or wget.
inline std::unique_ptr<Cifar10Download> download_cifar10(const std::string& data_dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(data_dir, ec);
    if (ec) fail(data_dir, ": cannot create folder (", ec.message(), ")");
    const std::string dest = (fs::path(data_dir) / cifar10_archive_name()).string();
    io::remove_stale_temporaries(data_dir);
    const std::string part = io::temp_path_for(dest);
    // Created and locked here; curl/wget then write into the same file.
    const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) fail(part, ": cannot create (", io::detail::errno_text(errno), ")");
    ::flock(fd, LOCK_EX | LOCK_NB);
    auto dl = std::make_unique<Cifar10Download>(part, dest, fd);
    auto have = [](const char* tool) {
        return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
    };
    std::string cmd;
    if (have("curl"))
        cmd = "curl -fsSL --retry 2 --connect-timeout 20 -o " + io::shell_quote(part) + " " + io::shell_quote(cifar10_url());
    else if (have("wget"))
        cmd = "wget -q --tries=2 --timeout=20 -O " + io::shell_quote(part) + " " + io::shell_quote(cifar10_url());
    else
        fail("cannot download ", cifar10_url(), ": neither curl nor wget is installed (use --from FILE)");
    const int rc = std::system(cmd.c_str());
    if (rc != 0)
        fail("cannot download ", cifar10_url(), " (offline? exit status ", rc,
             "); download it elsewhere and pass --from FILE");
    return dl;
}

// The archive to extract when the data folder is empty: ANN_SHARED_DATA's copy, if any.
inline std::string shared_cifar10_archive() {
    const char* env = std::getenv("ANN_SHARED_DATA");
    if (!env || !*env) return {};
    const auto p = std::filesystem::path(env) / cifar10_archive_name();
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec) ? p.string() : std::string();
}

// Makes sure data_dir holds the six files: uses them if present, else extracts `archive`
// (or ANN_SHARED_DATA's copy when archive is empty). Never downloads. Returns the folder.
inline std::string ensure_cifar10(const std::string& data_dir, std::string archive = {}) {
    const std::string dir = cifar10_dir(data_dir);
    if (archive.empty() && cifar10_present(dir)) return dir;
    if (archive.empty()) archive = shared_cifar10_archive();
    if (archive.empty())
        fail(dir, ": CIFAR-10 not found; run `cifar10_data` to download it, or pass an archive with --from FILE"
                  " (or set ANN_SHARED_DATA to a folder holding ", cifar10_archive_name(), ")");
    const std::string parent = std::filesystem::path(dir).parent_path().string();
    for (const auto& f : extract_cifar10(archive, parent.empty() ? "." : parent))
        std::printf("%s: replaced by the verified copy from %s\n", f.c_str(), archive.c_str());
    return dir;
}

}  // namespace ann::data
