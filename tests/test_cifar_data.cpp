// CIFAR-10 data: MD5, the tar.gz reader, the batch-file reader and its bad inputs, extraction,
// the class-balanced split, float batches.
#include <catch2/catch.hpp>

#include <set>

#include "ann/data/batches.hpp"
#include "ann/data/cifar10.hpp"
#include "ann/data/cifar10_fetch.hpp"
#include "ann/data/md5.hpp"
#include "ann/data/split.hpp"
#include "ann/data/tar_gz.hpp"
#include "cifar_test_util.hpp"

using namespace ann;
using testutil::TempDir;

TEST_CASE("md5 matches RFC 1321's test suite, in one piece or streamed", "[data][md5]") {
    CHECK(data::md5_hex("", 0) == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(data::md5_hex("abc", 3) == "900150983cd24fb0d6963f7d28e17f72");
    const std::string digits = "12345678901234567890123456789012345678901234567890123456789012345678901234567890";
    CHECK(data::md5_hex(digits.data(), digits.size()) == "57edf4a22be3c955ac49da2e2107b67a");
    data::Md5 m;  // odd chunk sizes across the 64-byte block boundary
    for (std::size_t i = 0; i < digits.size(); i += 7) m.update(digits.data() + i, std::min<std::size_t>(7, digits.size() - i));
    CHECK(m.hex() == "57edf4a22be3c955ac49da2e2107b67a");
}

namespace {
struct Collected {
    std::vector<std::string> paths, contents;
};
Collected read_all(const std::string& tar) {
    Collected c;
    std::size_t pos = 0;
    data::read_tar(
        [&](void* b, std::size_t n) {
            n = std::min(n, tar.size() - pos);
            std::memcpy(b, tar.data() + pos, n);
            pos += n;
            return n;
        },
        "test.tar",
        [&](const data::TarEntry& e) -> data::SinkFn {
            c.paths.push_back(e.path);
            c.contents.emplace_back();
            return [&c](const char* d, std::size_t n) { c.contents.back().append(d, n); };
        });
    return c;
}
}  // namespace

TEST_CASE("tar reader: members, GNU long names, pax paths, directories", "[data][tar]") {
    const std::string big(70000, 'x');  // spans several read chunks
    const std::string longname(150, 'n');
    std::string tar = testutil::tar_member("dir/", "", '5') + testutil::tar_member("dir/a.txt", "hello") +
                      testutil::tar_member("././@LongLink", longname + '\0', 'L') + testutil::tar_member("short", "long") +
                      testutil::tar_member("pax", "21 path=from/pax.bin\n", 'x') + testutil::tar_member("ignored", "p") +
                      testutil::tar_member("big.bin", big) + testutil::tar_end();
    auto c = read_all(tar);
    REQUIRE(c.paths == std::vector<std::string>{"dir/a.txt", longname, "from/pax.bin", "big.bin"});
    CHECK(c.contents[0] == "hello");
    CHECK(c.contents[1] == "long");
    CHECK(c.contents[2] == "p");
    CHECK(c.contents[3] == big);
}

TEST_CASE("tar reader rejects corrupt and truncated archives with the archive's name", "[data][tar]") {
    const std::string good = testutil::tar_member("a.bin", std::string(1000, 'a')) + testutil::tar_end();
    SECTION("checksum") {
        std::string bad = good;
        bad[10] = 'Z';
        CHECK_THROWS_WITH(read_all(bad), Catch::Contains("test.tar") && Catch::Contains("checksum"));
    }
    SECTION("truncated data") {
        CHECK_THROWS_WITH(read_all(good.substr(0, 800)), Catch::Contains("test.tar") && Catch::Contains("truncated"));
    }
    SECTION("truncated header") {
        CHECK_THROWS_WITH(read_all(good.substr(0, 300)), Catch::Contains("truncated"));
    }
    SECTION("size field that is not octal") {
        std::string bad = testutil::tar_member("a.bin", "abc");
        bad[124] = '9';
        unsigned sum = 0;  // keep the checksum right so the size check is what fails
        std::memset(&bad[148], ' ', 8);
        for (int i = 0; i < 512; ++i) sum += static_cast<unsigned char>(bad[i]);
        std::snprintf(&bad[148], 8, "%06o", sum);
        CHECK_THROWS_WITH(read_all(bad), Catch::Contains("size"));
    }
    SECTION("a huge size ends in a truncation error, not an allocation") {
        std::string bad = testutil::tar_member("a.bin", "abc");
        std::memcpy(&bad[124], "77777777777", 11);
        unsigned sum = 0;
        std::memset(&bad[148], ' ', 8);
        for (int i = 0; i < 512; ++i) sum += static_cast<unsigned char>(bad[i]);
        std::snprintf(&bad[148], 8, "%06o", sum);
        CHECK_THROWS_WITH(read_all(bad), Catch::Contains("truncated"));
    }
    SECTION("oversized long-name record") {
        const std::string bad = testutil::tar_member("././@LongLink", std::string(10000, 'n'), 'L') + testutil::tar_end();
        CHECK_THROWS_WITH(read_all(bad), Catch::Contains("long-name"));
    }
    SECTION("no end-of-archive blocks is accepted") {
        CHECK(read_all(good.substr(0, good.size() - 1024)).paths.size() == 1);
    }
}

TEST_CASE("tar reader survives random corruption: parses or throws ann::Error", "[data][tar]") {
    const std::string base = testutil::tar_member("././@LongLink", std::string(120, 'n') + '\0', 'L') +
                             testutil::tar_member("a", "hello") + testutil::tar_member("pax", "21 path=from/pax.bin\n", 'x') +
                             testutil::tar_member("b", std::string(600, 'b')) + testutil::tar_end();
    Rng r(11);
    std::size_t errors = 0;
    for (int it = 0; it < 3000; ++it) {
        std::string t = base;
        const int flips = 1 + static_cast<int>(r.below(8));
        for (int f = 0; f < flips; ++f) t[r.below(t.size())] = static_cast<char>(r.below(256));
        if (r.below(4) == 0) t.resize(r.below(t.size()));
        try {
            read_all(t);
        } catch (const ann::Error&) {
            ++errors;
        }
    }
    CHECK(errors > 0);
}

TEST_CASE("tar.gz: gzip layer round trip and truncated gzip", "[data][tar]") {
    TempDir t("targz");
    const std::string tar = testutil::tar_member("x/y.bin", std::string(5000, 'q')) + testutil::tar_end();
    testutil::write_gz(t / "a.tar.gz", tar);
    std::string got;
    data::read_tar_gz(t / "a.tar.gz", [&](const data::TarEntry&) -> data::SinkFn {
        return [&](const char* d, std::size_t n) { got.append(d, n); };
    });
    CHECK(got == std::string(5000, 'q'));

    std::ifstream in(t / "a.tar.gz", std::ios::binary);
    std::string gz((std::istreambuf_iterator<char>(in)), {});
    testutil::write_bytes(t / "cut.tar.gz", gz.substr(0, gz.size() / 2));
    CHECK_THROWS_WITH(data::read_tar_gz(t / "cut.tar.gz", [](const data::TarEntry&) { return data::SinkFn{}; }),
                      Catch::Contains("cut.tar.gz"));
}

namespace {
// n records with the given labels and pixel bytes derived from the record index.
std::string records(const std::vector<int>& labels) {
    std::string s;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        s += static_cast<char>(labels[i]);
        for (std::size_t k = 0; k < data::kCifarImageBytes; ++k) s += static_cast<char>((i * 7 + k) % 256);
    }
    return s;
}
}  // namespace

TEST_CASE("batch file reader: bad inputs are one-line errors naming the file, the set unchanged", "[data][cifar]") {
    TempDir t("cifar_bad");
    data::CifarSet set;
    SECTION("missing file") {
        CHECK_THROWS_WITH(data::read_cifar_batch(t / "nope.bin", set, 3),
                          Catch::Contains("nope.bin") && Catch::Contains("missing"));
    }
    SECTION("wrong size") {
        testutil::write_bytes(t / "short.bin", records({1, 2, 3}).substr(0, 5000));
        CHECK_THROWS_WITH(data::read_cifar_batch(t / "short.bin", set, 3),
                          Catch::Contains("short.bin") && Catch::Contains("wrong size 5000"));
        testutil::write_bytes(t / "two.bin", records({1, 2}));
        CHECK_THROWS_WITH(data::read_cifar_batch(t / "two.bin", set, 3), Catch::Contains("two.bin"));
    }
    SECTION("label > 9") {
        testutil::write_bytes(t / "label.bin", records({1, 10, 3}));
        CHECK_THROWS_WITH(data::read_cifar_batch(t / "label.bin", set, 3),
                          Catch::Contains("label.bin") && Catch::Contains("record 1 has label 10"));
    }
    SECTION("MD5 mismatch") {
        testutil::write_bytes(t / "m.bin", records({1, 2, 3}));
        CHECK_THROWS_WITH(data::check_cifar_md5(t / "m.bin", "0123456789abcdef0123456789abcdef"),
                          Catch::Contains("m.bin") && Catch::Contains("MD5 mismatch"));
    }
    CHECK(set.size() == 0);
    CHECK(set.pixels.empty());
}

TEST_CASE("batch file reader keeps records in CHW order, fill_batch scales pixels to 0..1", "[data][cifar]") {
    TempDir t("cifar_ok");
    testutil::write_bytes(t / "ok.bin", records({4, 0, 9}));
    data::CifarSet set;
    data::read_cifar_batch(t / "ok.bin", set, 3);
    REQUIRE(set.size() == 3);
    CHECK(set.labels == std::vector<std::uint8_t>{4, 0, 9});
    CHECK(set.image(2)[5] == (2 * 7 + 5) % 256);
    Array<float> x;
    std::vector<long> y;
    const std::uint32_t idx[] = {2, 0};
    data::fill_batch(set, idx, 2, x, y);
    CHECK(x.shape() == Shape{2, 3, 32, 32});
    CHECK(y == std::vector<long>{9, 4});
    CHECK(x(0, 0, 0, 5) == Approx(((2 * 7 + 5) % 256) / 255.0f));
    CHECK(x(1, 2, 31, 31) == Approx(((3071) % 256) / 255.0f));  // record 0, last byte
    const float lo = *std::min_element(x.begin(), x.end()), hi = *std::max_element(x.begin(), x.end());
    CHECK(lo >= 0.0f);
    CHECK(hi <= 1.0f);
}

TEST_CASE("extraction: an archive without the files leaves no folder behind", "[data][cifar]") {
    TempDir t("extract");
    testutil::write_gz(t / "other.tar.gz", testutil::tar_member("cifar-10-batches-bin/data_batch_1.bin", "tiny") +
                                               testutil::tar_end());
    const std::string data_dir = t / "data";
    CHECK_THROWS_WITH(data::extract_cifar10(t / "other.tar.gz", data_dir), Catch::Contains("other.tar.gz"));
    REQUIRE(std::filesystem::exists(data_dir));
    CHECK(std::filesystem::is_empty(data_dir));  // no target folder, no temporary folder
    CHECK_THROWS_WITH(data::extract_cifar10(t / "missing.tar.gz", data_dir), Catch::Contains("missing.tar.gz"));
    CHECK_THROWS_WITH(data::ensure_cifar10(t / "empty", t / "missing.tar.gz"), Catch::Contains("missing.tar.gz"));
}

TEST_CASE("stratified split: equal per class, disjoint, complete, reproducible from the seed", "[data][split]") {
    std::vector<std::uint8_t> labels(2000);
    Rng r(5);
    for (auto& l : labels) l = static_cast<std::uint8_t>(r.below(10));
    auto s = data::stratified_split(labels, 20, 42);
    CHECK(data::class_counts(labels, s.held_out) == std::vector<std::size_t>(10, 20));
    CHECK(s.kept.size() + s.held_out.size() == labels.size());
    std::set<std::uint32_t> all(s.kept.begin(), s.kept.end());
    all.insert(s.held_out.begin(), s.held_out.end());
    CHECK(all.size() == labels.size());
    CHECK(data::stratified_split(labels, 20, 42).held_out == s.held_out);
    CHECK(data::stratified_split(labels, 20, 43).held_out != s.held_out);
    CHECK_THROWS_WITH(data::stratified_split(labels, 1000, 1), Catch::Contains("fewer than"));
    auto sub = data::balanced_subset(labels, s.kept, 7, 1);
    CHECK(data::class_counts(labels, sub) == std::vector<std::size_t>(10, 7));
    for (auto i : sub) CHECK(std::binary_search(s.kept.begin(), s.kept.end(), i));
}

TEST_CASE("epoch order is a permutation that depends on the Rng state only", "[data][batches]") {
    data::Indices imgs{3, 8, 10, 11, 40, 41, 42};
    Rng a(1), b(1);
    auto o1 = data::epoch_order(imgs, a), o2 = data::epoch_order(imgs, b);
    CHECK(o1 == o2);
    auto o3 = data::epoch_order(imgs, a);  // next epoch: another order
    CHECK(o3 != o1);
    std::sort(o3.begin(), o3.end());
    CHECK(o3 == imgs);
    CHECK(data::num_batches(45000, 50) == 900);
    CHECK(data::num_batches(51, 50) == 2);
}

TEST_CASE("real CIFAR-10: extracted archive verifies, loads, and splits 45000/5000 with 500 per class",
          "[data][cifar][real]") {
    const std::string dir = testutil::real_cifar_dir();
    if (dir.empty()) {
        WARN("shared CIFAR-10 archive not found at " ANN_SHARED_DATA "; skipped");
        return;
    }
    data::verify_cifar10(dir);
    const auto d = data::load_cifar10(dir);
    REQUIRE(d.train.size() == 50000);
    REQUIRE(d.test.size() == 10000);
    CHECK(d.train.pixels.size() == 50000u * 3072u);
    CHECK(data::class_counts(d.test.labels, [] { data::Indices i(10000); for (std::uint32_t k = 0; k < 10000; ++k) i[k] = k; return i; }()) ==
          std::vector<std::size_t>(10, 1000));
    const auto s = data::stratified_split(d.train.labels, 500, 0);
    CHECK(s.kept.size() == 45000);
    CHECK(s.held_out.size() == 5000);
    CHECK(data::class_counts(d.train.labels, s.held_out) == std::vector<std::size_t>(10, 500));
    CHECK(data::class_counts(d.train.labels, s.kept) == std::vector<std::size_t>(10, 4500));

    // A file with one flipped byte fails the MD5 check, naming it.
    TempDir t("md5");
    std::filesystem::copy_file(dir + "/data_batch_2.bin", t / "data_batch_2.bin");
    {
        std::fstream f(t / "data_batch_2.bin", std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(12345);
        const char c = static_cast<char>(f.get());
        f.seekp(12345);
        f.put(static_cast<char>(c ^ 1));
    }
    CHECK_THROWS_WITH(data::check_cifar_md5(t / "data_batch_2.bin", data::cifar10_files()[1].md5),
                      Catch::Contains("data_batch_2.bin") && Catch::Contains("MD5 mismatch"));
}
