#pragma once
// Getting CIFAR-10 onto disk: download the official archive (by curl or wget), or take a
// local copy, extract the six batch files and check them against the published MD5s.
// Extraction goes to a temporary folder that is renamed into place only after every file
// has been verified, so a failed or interrupted run never leaves a folder that looks valid.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <unistd.h>

#include "ann/data/cifar10.hpp"
#include "ann/data/md5.hpp"
#include "ann/data/tar_gz.hpp"

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

// Extracts cifar-10-batches-bin/ from `archive` into data_dir/cifar-10-batches-bin, replacing
// what is there only once the new files are all verified.
inline void extract_cifar10(const std::string& archive, const std::string& data_dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_regular_file(archive, ec)) fail(archive, ": missing (no such file)");
    fs::create_directories(data_dir, ec);
    if (ec) fail(data_dir, ": cannot create folder (", ec.message(), ")");
    const fs::path target = fs::path(data_dir) / cifar10_folder_name();
    const fs::path tmp = fs::path(data_dir) / (std::string(".") + cifar10_folder_name() + ".tmp" + std::to_string(::getpid()));
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp, ec);
    if (ec) fail(tmp.string(), ": cannot create folder (", ec.message(), ")");
    // Removes the temporary folder on every way out but success.
    struct Cleanup {
        fs::path p;
        bool armed = true;
        ~Cleanup() {
            std::error_code e;
            if (armed) fs::remove_all(p, e);
        }
    } cleanup{tmp};

    std::map<std::string, std::string> wanted;  // member path -> file name
    for (const auto& f : cifar10_files()) wanted[std::string(cifar10_folder_name()) + "/" + f.name] = f.name;
    wanted[std::string(cifar10_folder_name()) + "/batches.meta.txt"] = "batches.meta.txt";
    std::map<std::string, bool> seen;
    std::unique_ptr<std::ofstream> out;
    std::string out_path;

    read_tar_gz(archive, [&](const TarEntry& e) -> SinkFn {
        std::string p = e.path;
        if (p.compare(0, 2, "./") == 0) p = p.substr(2);
        auto it = wanted.find(p);
        if (it == wanted.end() || seen[p]) return {};
        seen[p] = true;
        if (out) out->close();
        out_path = (tmp / it->second).string();
        out = std::make_unique<std::ofstream>(out_path, std::ios::binary | std::ios::trunc);
        if (!*out) fail(out_path, ": cannot create file");
        return [&, path = out_path](const char* d, std::size_t n) {
            out->write(d, static_cast<std::streamsize>(n));
            if (!*out) fail(path, ": write error (disk full?)");
        };
    });
    if (out) {
        out->close();
        if (out->fail()) fail(out_path, ": write error (disk full?)");
    }
    for (const auto& f : cifar10_files())
        if (!seen[std::string(cifar10_folder_name()) + "/" + f.name])
            fail(archive, ": has no member ", cifar10_folder_name(), "/", f.name, " (not the CIFAR-10 binary release?)");
    try {
        verify_cifar10(tmp.string());
    } catch (const Error& e) {
        fail(archive, ": extracted file is bad: ", e.what());
    }
    if (fs::exists(target, ec)) {
        const fs::path old = fs::path(data_dir) / (std::string(".") + cifar10_folder_name() + ".old" + std::to_string(::getpid()));
        fs::rename(target, old, ec);
        if (ec) fail(target.string(), ": cannot move the old folder aside (", ec.message(), ")");
        fs::remove_all(old, ec);
    }
    fs::rename(tmp, target, ec);
    if (ec) fail(target.string(), ": cannot rename the extracted folder into place (", ec.message(), ")");
    cleanup.armed = false;
}

// Downloads the official archive to data_dir/cifar-10-binary.tar.gz (through a .part file)
// with curl or wget. Returns the archive's path.
inline std::string download_cifar10(const std::string& data_dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(data_dir, ec);
    if (ec) fail(data_dir, ": cannot create folder (", ec.message(), ")");
    const std::string dest = (fs::path(data_dir) / cifar10_archive_name()).string();
    const std::string part = dest + ".part";
    auto have = [](const char* tool) {
        return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
    };
    std::string cmd;
    if (have("curl"))
        cmd = "curl -fsSL --retry 2 --connect-timeout 20 -o '" + part + "' '" + cifar10_url() + "'";
    else if (have("wget"))
        cmd = "wget -q --tries=2 --timeout=20 -O '" + part + "' '" + cifar10_url() + "'";
    else
        fail("cannot download ", cifar10_url(), ": neither curl nor wget is installed (use --from FILE)");
    if (data_dir.find('\'') != std::string::npos) fail(data_dir, ": folder name must not contain a quote");
    const int rc = std::system(cmd.c_str());
    if (rc != 0) {
        fs::remove(part, ec);
        fail("cannot download ", cifar10_url(), " (offline? exit status ", rc,
             "); download it elsewhere and pass --from FILE");
    }
    fs::rename(part, dest, ec);
    if (ec) fail(dest, ": cannot rename the download into place (", ec.message(), ")");
    return dest;
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
    extract_cifar10(archive, parent.empty() ? "." : parent);
    return dir;
}

}  // namespace ann::data
