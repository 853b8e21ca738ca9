#pragma once
// Helpers shared by the CIFAR tests: temporary folders, small tar/gzip writers, and the real
// data extracted once into the build tree.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>
#include <unistd.h>

#include <zlib.h>

#include "ann/core/rng.hpp"
#include "ann/data/cifar10_fetch.hpp"
#include "ann/testing/synthetic_cifar.hpp"

namespace testutil {

using ann::testing::synthetic_cifar;
// The tests' older name for it.
inline ann::data::CifarSet synthetic_set(std::size_t n, std::uint64_t seed) { return synthetic_cifar(n, seed); }

namespace fs = std::filesystem;

// A fresh folder under the system temp dir, removed at scope exit.
struct TempDir {
    fs::path path;
    explicit TempDir(const std::string& tag) {
        path = fs::temp_directory_path() / ("ann_test_" + tag + "_" + std::to_string(::getpid()));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string operator/(const std::string& name) const { return (path / name).string(); }
};

inline void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// One ustar header + data + padding.
// `declared`, if given, is the size the header states (a hostile archive's), whatever data holds.
inline std::string tar_member(const std::string& name, const std::string& data, char type = '0',
                              unsigned long long declared = ~0ull) {
    char h[512];
    std::memset(h, 0, sizeof h);
    std::snprintf(h, 100, "%s", name.c_str());
    std::snprintf(h + 100, 8, "%07o", 0644);
    std::snprintf(h + 108, 8, "%07o", 0);
    std::snprintf(h + 116, 8, "%07o", 0);
    std::snprintf(h + 124, 12, "%011llo", declared == ~0ull ? static_cast<unsigned long long>(data.size()) : declared);
    std::snprintf(h + 136, 12, "%011o", 0);
    h[156] = type;
    std::memcpy(h + 257, "ustar\0" "00", 8);
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    std::snprintf(h + 148, 8, "%06o", sum);
    std::string out(h, 512);
    out += data;
    out.append((512 - data.size() % 512) % 512, '\0');
    return out;
}
inline std::string tar_end() { return std::string(1024, '\0'); }

inline void write_gz(const std::string& path, const std::string& bytes) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
}

// The real CIFAR-10 folder, extracted once into the build tree; empty if the shared archive
// is not available (the tests that need it then say so and skip).
inline std::string real_cifar_dir() {
    static std::string dir = [] {
        const std::string archive = std::string(ANN_SHARED_DATA) + "/cifar-10-binary.tar.gz";
        if (!fs::exists(archive)) return std::string();
        const std::string data = (fs::current_path() / "test_data").string();
        const std::string d = ann::data::cifar10_dir(data);
        if (!ann::data::cifar10_present(d)) ann::data::extract_cifar10(archive, data);
        return d;
    }();
    return dir;
}

}  // namespace testutil
