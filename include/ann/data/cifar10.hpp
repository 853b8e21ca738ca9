#pragma once
// CIFAR-10, binary release (cifar-10-batches-bin/): data_batch_1..5.bin and test_batch.bin,
// 10000 records each of 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32, row-major),
// so a record is already in CHW order. Images stay uint8 in memory (60000 images = 184 MB);
// data/batches.hpp scales them to floats one batch at a time.
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "ann/core/error.hpp"
#include "ann/data/md5.hpp"
#include "ann/io/read_file.hpp"

namespace ann::data {

constexpr std::size_t kCifarImageBytes = 3 * 32 * 32;
constexpr std::size_t kCifarRecordBytes = 1 + kCifarImageBytes;
constexpr std::size_t kCifarRecordsPerFile = 10000;
constexpr std::size_t kCifarFileBytes = kCifarRecordBytes * kCifarRecordsPerFile;  // 30730000
constexpr std::size_t kCifarClasses = 10;

struct CifarFile {
    const char* name;
    const char* md5;  // published checksum of the official release
};
// The same values as shared/data/cifar-10-batches-bin.md5.
inline const std::array<CifarFile, 6>& cifar10_files() {
    static const std::array<CifarFile, 6> files{{
        {"data_batch_1.bin", "5dd7e06a14cb22eb9f671a540d1b7c25"},
        {"data_batch_2.bin", "5ea93a67294ea407fff1d09f752e9692"},
        {"data_batch_3.bin", "942cd6a4bcdd0dd3c604fbe906cb4421"},
        {"data_batch_4.bin", "ae636b3ba5c66a11e91e8cb52e771fcb"},
        {"data_batch_5.bin", "53f37980c15c3d472c316c40844f3f0d"},
        {"test_batch.bin", "803d5f7f4d78ea53de84dbe85f74fb6d"},
    }};
    return files;
}
inline const std::array<const char*, 10>& cifar10_class_names() {
    static const std::array<const char*, 10> names{"airplane", "automobile", "bird", "cat", "deer",
                                                    "dog",      "frog",       "horse", "ship", "truck"};
    return names;
}

// A set of images: image i is pixels[i*3072 .. (i+1)*3072), label labels[i] in [0, 10).
struct CifarSet {
    std::vector<std::uint8_t> pixels;
    std::vector<std::uint8_t> labels;
    std::size_t size() const { return labels.size(); }
    const std::uint8_t* image(std::size_t i) const { return pixels.data() + i * kCifarImageBytes; }
};

struct Cifar10 {
    CifarSet train;  // 50000 images: data_batch_1..5 in order
    CifarSet test;   // 10000 images
};

// Appends the records held in buf[0, bytes) to `set`. Checks the size (a non-zero multiple of
// the record size, and `expected_records` records if non-zero) and that every label is < 10;
// on error throws naming `path` and leaves `set` as it was. Split from the file reading so the
// checks can be fuzzed in memory (fuzz/cifar_records.cpp).
inline void parse_cifar_batch(const std::uint8_t* buf, std::size_t bytes, const std::string& path, CifarSet& set,
                              std::size_t expected_records = kCifarRecordsPerFile) {
    const std::size_t want = expected_records * kCifarRecordBytes;
    if ((expected_records != 0 && bytes != want) || bytes % kCifarRecordBytes != 0 || bytes == 0)
        fail(path, ": wrong size ", bytes, " bytes, expected ",
             expected_records ? want : kCifarRecordBytes, expected_records ? "" : "*k", " (records of ",
             kCifarRecordBytes, " bytes)");
    const std::size_t n = bytes / kCifarRecordBytes;
    for (std::size_t i = 0; i < n; ++i)
        if (buf[i * kCifarRecordBytes] >= kCifarClasses)
            fail(path, ": record ", i, " has label ", int(buf[i * kCifarRecordBytes]), ", expected 0..9");
    const std::size_t old = set.size();
    set.labels.resize(old + n);
    set.pixels.resize((old + n) * kCifarImageBytes);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t* rec = buf + i * kCifarRecordBytes;
        set.labels[old + i] = rec[0];
        std::copy(rec + 1, rec + kCifarRecordBytes, set.pixels.data() + (old + i) * kCifarImageBytes);
    }
}

// Appends the records of one batch file to `set` (checks as parse_cifar_batch; the size is
// checked before reading, so a huge wrong file is not read into memory).
inline void read_cifar_batch(const std::string& path, CifarSet& set, std::size_t expected_records = kCifarRecordsPerFile) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) fail(path, ": missing (no such file)");
    const auto bytes = fs::file_size(path, ec);
    if (ec) fail(path, ": cannot read its size (", ec.message(), ")");
    const std::size_t want = expected_records * kCifarRecordBytes;
    if ((expected_records != 0 && bytes != want) || bytes % kCifarRecordBytes != 0 || bytes == 0)
        fail(path, ": wrong size ", bytes, " bytes, expected ",
             expected_records ? want : kCifarRecordBytes, expected_records ? "" : "*k", " (records of ",
             kCifarRecordBytes, " bytes)");
    const std::string buf = io::read_file(path, bytes);
    if (buf.size() != bytes) fail(path, ": read ", buf.size(), " of ", bytes, " bytes");
    parse_cifar_batch(reinterpret_cast<const std::uint8_t*>(buf.data()), buf.size(), path, set, expected_records);
}

// Throws naming the file unless its MD5 is the published one.
inline void check_cifar_md5(const std::string& path, const std::string& expected) {
    const std::string got = md5_file(path);
    if (got != expected) fail(path, ": MD5 mismatch (got ", got, ", expected ", expected, ")");
}

// Loads all six files from `dir` (the cifar-10-batches-bin folder). verify_md5 also checks
// every file against the published checksums (about 0.5 s).
inline Cifar10 load_cifar10(const std::string& dir, bool verify_md5 = true) {
    Cifar10 d;
    d.train.pixels.reserve(50000 * kCifarImageBytes);
    d.train.labels.reserve(50000);
    for (const auto& f : cifar10_files()) {
        const std::string path = (std::filesystem::path(dir) / f.name).string();
        if (verify_md5 && std::filesystem::exists(path) &&
            std::filesystem::file_size(path) == kCifarFileBytes)  // size errors read better
            check_cifar_md5(path, f.md5);
        read_cifar_batch(path, std::string(f.name) == "test_batch.bin" ? d.test : d.train);
    }
    return d;
}

}  // namespace ann::data
