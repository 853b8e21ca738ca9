// Regression tests for the fault classes of docs/robustness.md ("Nothing lost under faults"):
// each failed on the code before its fix. The programs' own command-line checks are ctest
// entries in tests/CMakeLists.txt (cli.*), the fault injection in tests/fault/, the
// SIGKILL-at-every-rename test in tests/kill/.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "ann/ann.hpp"
#include "ann/io/checkpoint.hpp"
#include "ann/io/crc32.hpp"
#include "ann/io/json_file.hpp"
#include "ann/io/shell_quote.hpp"
#include "ann/io/signals.hpp"
#include "ann/data/npy.hpp"
#include "ann/train/results_json.hpp"
#include "ann/train/checkpoint.hpp"
#include "ann/viz/homework.hpp"
#include "cifar_test_util.hpp"

using namespace ann;
namespace fs = std::filesystem;
using Json = nlohmann::json;
using testutil::TempDir;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string> listing(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(e.path().lexically_relative(dir).string());
    std::sort(out.begin(), out.end());
    return out;
}

// Runs f with writes past `bytes` failing with EFBIG (a disk that fills up), as homework does.
template <class F>
std::string message_with_file_limit(rlim_t bytes, F&& f) {
    struct rlimit old {};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
    struct rlimit small = old;
    small.rlim_cur = bytes;
    auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::string message;
    try {
        f();
    } catch (const std::exception& e) {
        message = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &old);
    ::signal(SIGXFSZ, old_handler);
    return message;
}

viz::Figure noisy_figure(int seed) {
    viz::Figure fig(8, 6);
    auto& ax = *fig.subplots(1, 1)[0];
    std::vector<double> x, y;
    Rng rng(static_cast<std::uint64_t>(seed));
    for (int i = 0; i < 2000; ++i) x.push_back(i), y.push_back(rng.normal());  // noise: compresses poorly
    ax.plot(x, y, viz::Style{});
    return fig;
}

// A checkpoint with a valid CRC whose loop-state JSON is `depth` arrays deep.
std::string deeply_nested_checkpoint(const std::string& path, std::size_t depth) {
    Rng init(1);
    auto m = models::homework<float>("cnn_3", models::Activation::relu, init);
    SGD<float> sgd(m.parameters(), 0.1, 0.0);
    Rng rng(2);
    const std::string pad(2 * depth - 8, 'x');  // {"p":"xx..."} has 2 * depth characters
    io::save_checkpoint(path, m, "cnn_3/relu", sgd, rng, Json{{"p", pad}});
    std::string bytes = slurp(path);
    const std::string text = Json{{"p", pad}}.dump();
    REQUIRE(text.size() == 2 * depth);
    const auto at = bytes.find(text);
    REQUIRE(at != std::string::npos);
    bytes.replace(at, text.size(), std::string(depth, '[') + std::string(depth, ']'));
    const std::uint32_t crc = io::crc32(std::string_view(bytes).substr(24));
    for (int i = 0; i < 4; ++i) bytes[12 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
    testutil::write_bytes(path, bytes);
    return path;
}

}  // namespace

// ---- class 1: every file through the one atomic writer -------------------------------------

TEST_CASE("figures: a PNG or SVG that does not fit on the disk is an error; the previous file stays, nothing partial",
          "[hostile][write]") {
    TempDir t("fig_full");
    for (const char* name : {"plot.png", "plot.svg"}) {
        INFO(name);
        const std::string path = t / name;
        noisy_figure(1).save(path);
        const std::string before = slurp(path);
        REQUIRE(before.size() > 20000);
        const std::string msg = message_with_file_limit(8192, [&] { noisy_figure(2).save(path); });
        CHECK_THAT(msg, Catch::Contains(path) && Catch::Contains("File too large"));
        CHECK(slurp(path) == before);
    }
    CHECK(listing(t.path) == std::vector<std::string>{"plot.png", "plot.svg"});  // no temporaries
}

TEST_CASE("figures: writers of the same figure at once never share a temporary file", "[hostile][write]") {
    TempDir t("fig_race");
    const std::string path = t / "same.png";
    std::vector<std::thread> threads;
    std::atomic<int> errors{0};
    for (int k = 0; k < 4; ++k)
        threads.emplace_back([&, k] {
            for (int i = 0; i < 5; ++i) try {
                    noisy_figure(k).save_png(path);
                } catch (const std::exception&) {
                    ++errors;
                }
        });
    for (auto& th : threads) th.join();
    CHECK(errors == 0);
    const std::string got = slurp(path);
    bool matches_one = false;  // the file is one writer's complete picture
    for (int k = 0; k < 4; ++k) {
        noisy_figure(k).save_png(t / "ref.png");
        matches_one = matches_one || slurp(t / "ref.png") == got;
    }
    CHECK(matches_one);
    CHECK(listing(t.path) == std::vector<std::string>{"ref.png", "same.png"});
}

// ---- class 3: readers check declared sizes and depth before allocating ---------------------

TEST_CASE("json: deep nesting and huge strings are refused while parsing, naming the file", "[hostile][read]") {
    TempDir t("json");
    const std::string deep = t / "deep.json";
    testutil::write_bytes(deep, std::string(300000, '[') + std::string(300000, ']'));
    CHECK_THROWS_WITH(io::read_json(deep), Catch::Contains(deep) && Catch::Contains("nested more than 64"));
    CHECK_THROWS_WITH(train::read_json(deep), Catch::Contains("nested more than 64"));
    CHECK_THROWS_WITH(viz::read_part3(deep), Catch::Contains("nested more than 64"));
    const std::string big = t / "big.json";
    testutil::write_bytes(big, "{\"name\": \"" + std::string(1 << 20, 'a') + "\"}");
    CHECK_THROWS_WITH(io::read_json(big), Catch::Contains(big) && Catch::Contains("1048576 bytes"));
    // ann's own deepest file still reads: part 3's cnn weights, 4 levels under the top object
    const std::string ok = t / "ok.json";
    testutil::write_bytes(ok, R"({"w": [[[[1.5, 2]]]], "name": "cnn_3"})");
    CHECK(io::read_json(ok)["w"][0][0][0][1] == 2);
}

TEST_CASE("checkpoint: a loop state nested 300000 deep (valid CRC) is an error, not a stack overflow",
          "[hostile][read]") {
    TempDir t("deep_ckpt");
    const std::string path = deeply_nested_checkpoint(t / "deep.annc", 300000);
    train::Run<float> r;
    Rng init(3);
    r.model = models::homework<float>("cnn_3", models::Activation::relu, init);
    r.optimizer = std::make_unique<SGD<float>>(r.model.parameters(), 0.1, 0.0);
    CHECK_THROWS_WITH(train::load_run(path, r, "cnn_3/relu"), Catch::Contains(path) && Catch::Contains("nested"));
    Rng init2(3);
    auto m = models::homework<float>("cnn_3", models::Activation::relu, init2);
    SGD<float> sgd(m.parameters(), 0.1, 0.0);
    Rng rng;
    CHECK_THROWS_WITH(io::load_checkpoint(path, m, "cnn_3/relu", sgd, rng), Catch::Contains("nested"));
}

TEST_CASE("inputs that are not regular files are refused by name, never read or waited on", "[hostile][read]") {
    TempDir t("special");
    const std::string fifo = t / "pipe.annc";
    REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
    Rng init(3);
    auto m = models::homework<float>("cnn_3", models::Activation::relu, init);
    SGD<float> sgd(m.parameters(), 0.1, 0.0);
    Rng rng;
    for (const std::string& p : {fifo, std::string("/dev/zero"), t.path.string()}) {
        INFO(p);
        CHECK_THROWS_WITH(io::load_checkpoint(p, m, "cnn_3/relu", sgd, rng),
                          Catch::Contains(p) && Catch::Contains("expected a regular file"));
        CHECK_THROWS_WITH(data::read_npy(p), Catch::Contains(p) && Catch::Contains("expected a regular file"));
        CHECK_THROWS_WITH(io::read_json(p), Catch::Contains(p) && Catch::Contains("expected a regular file"));
        CHECK_THROWS_WITH(data::md5_file(p), Catch::Contains(p) && Catch::Contains("expected a regular file"));
    }
    CHECK_THROWS_WITH(data::extract_cifar10(fifo, t / "data"), Catch::Contains(fifo) && Catch::Contains("FIFO"));
}

TEST_CASE("extraction: a member declaring more than CIFAR-10's exact size is refused before anything is written",
          "[hostile][read][cifar]") {
    TempDir t("tar_bomb");
    // 40 MB of zeros (40 kB gzipped) under a header that declares 100 MB for a batch file.
    testutil::write_gz(t / "bomb.tar.gz",
                       testutil::tar_member("cifar-10-batches-bin/data_batch_1.bin", std::string(40 << 20, '\0'), '0',
                                            100ull << 20) +
                           testutil::tar_end());
    const std::string data_dir = t / "data";
    CHECK_THROWS_WITH(data::extract_cifar10(t / "bomb.tar.gz", data_dir),
                      Catch::Contains("bomb.tar.gz") && Catch::Contains("declares 104857600 bytes") &&
                          Catch::Contains("exactly 30730000"));
    CHECK(fs::is_empty(data_dir));
    // An unknown member declaring gigabytes is not read through either.
    testutil::write_gz(t / "other.tar.gz",
                       testutil::tar_member("junk.bin", std::string(1 << 20, '\0'), '0', 4ull << 30) + testutil::tar_end());
    CHECK_THROWS_WITH(data::extract_cifar10(t / "other.tar.gz", data_dir),
                      Catch::Contains("other.tar.gz") && Catch::Contains("would exceed"));
    CHECK(fs::is_empty(data_dir));
}

// ---- class 4: names from files never become paths ------------------------------------------

TEST_CASE("plot_results: a result's name cannot choose where a figure goes, nor be a megabyte long",
          "[hostile][viz]") {
    TempDir t("names");
    const fs::path results = t.path / "results";
    fs::create_directories(results / "part3");
    Json j;
    j["loss_curve"] = {2.3, 2.0};
    j["train_acc_curve"] = {10, 20};
    j["val_acc_curve"] = {10, 19};
    j["test_acc"] = 20;
    j["weights"] = std::vector<std::vector<double>>(4, std::vector<double>(3072, 0.5));
    for (const std::string& name : std::vector<std::string>{"../../evil", "a/b", "", std::string(1000, 'n')}) {
        j["name"] = name;
        train::write_json_atomic((results / "part3" / "part3_mlp_1.json").string(), j);
        CHECK_THROWS_WITH(viz::write_homework_figures(results.string()),
                          Catch::Contains("part3_mlp_1.json") && Catch::Contains("'name'"));
    }
    j["name"] = std::string(1 << 20, 'n');  // refused by the JSON reader already
    train::write_json_atomic((results / "part3" / "part3_mlp_1.json").string(), j);
    CHECK_THROWS_WITH(viz::write_homework_figures(results.string()),
                      Catch::Contains("part3_mlp_1.json") && Catch::Contains("1048576 bytes"));
    CHECK(listing(t.path) == std::vector<std::string>{"results", "results/part3", "results/part3/part3_mlp_1.json"});
    // A valid name: the weights figure is named after the file, in the results folder.
    j["name"] = "mlp_1";
    train::write_json_atomic((results / "part3" / "part3_mlp_1.json").string(), j);
    const auto written = viz::write_homework_figures(results.string());
    CHECK(written == std::vector<std::string>{(results / "part3" / "part3_plots.png").string(),
                                              (results / "part3" / "weights_mlp_1.png").string()});
}

// ---- class 5: the user's files are never deleted -------------------------------------------

TEST_CASE("extraction: files the user keeps in cifar-10-batches-bin/ stay; replaced batch files are listed",
          "[hostile][cifar]") {
    const std::string archive = std::string(ANN_SHARED_DATA) + "/cifar-10-binary.tar.gz";
    if (!fs::exists(archive)) {
        WARN("shared CIFAR-10 archive not found; skipped");
        return;
    }
    TempDir t("user_files");
    const fs::path dir = t.path / "cifar-10-batches-bin";
    fs::create_directories(dir / "my_notes");
    testutil::write_bytes((dir / "notes.txt").string(), "mine");
    testutil::write_bytes((dir / "my_notes" / "a.txt").string(), "also mine");
    testutil::write_bytes((dir / "data_batch_1.bin").string(), "incomplete");  // the folder is incomplete
    const std::string got = data::ensure_cifar10(t.path.string(), archive);
    CHECK(got == dir.string());
    CHECK(slurp(dir / "notes.txt") == "mine");
    CHECK(slurp(dir / "my_notes" / "a.txt") == "also mine");
    data::verify_cifar10(dir.string());
    const auto again = data::extract_cifar10(archive, t.path.string());  // all seven replaced now
    CHECK(again.size() == 7);
    CHECK(listing(t.path) ==
          std::vector<std::string>{"cifar-10-batches-bin", "cifar-10-batches-bin/batches.meta.txt",
                                   "cifar-10-batches-bin/data_batch_1.bin", "cifar-10-batches-bin/data_batch_2.bin",
                                   "cifar-10-batches-bin/data_batch_3.bin", "cifar-10-batches-bin/data_batch_4.bin",
                                   "cifar-10-batches-bin/data_batch_5.bin", "cifar-10-batches-bin/my_notes",
                                   "cifar-10-batches-bin/my_notes/a.txt", "cifar-10-batches-bin/notes.txt",
                                   "cifar-10-batches-bin/test_batch.bin"});
}

// ---- class 6: temporaries are removed on every exit path -----------------------------------

TEST_CASE("stale temporaries are removed at the next start: ours, unlocked, and nothing else", "[hostile][temp]") {
    TempDir t("stale");
    // Left by killed writers (no lock held): removed, files and the extraction's folders alike.
    for (const std::string& f : std::vector<std::string>{"a.json.tmp.ann.4999999.0", "b.png.tmp.ann.1.17"})
        testutil::write_bytes(t / f, "x");
    fs::create_directories(t.path / "extract.tmp.ann.1.3" / "inside");
    // A writer at work (it holds the lock, as write_file_atomic does): kept, whatever its pid.
    const std::string busy = t / "c.annc.tmp.ann.1.0";
    testutil::write_bytes(busy, "x");
    const int lock = io::lock_temporary(busy);
    REQUIRE(lock >= 0);
    // Not ours by name (the user's, or another program's): kept, even with a dead-looking pid.
    for (const std::string& f : std::vector<std::string>{"notes.tmp.4999999.1", "user.tmp.ann.notes", "x.tmp.ann.5",
                                                         "plain.json", "y.tmp.ann.1.2.3"})
        testutil::write_bytes(t / f, "x");
    fs::create_directories(t.path / "photos.tmp.4999998.2" / "mine");
    fs::create_symlink(t / "plain.json", t / "link.tmp.ann.1.9");  // a link is never followed or removed
    const auto removed = io::remove_stale_temporaries(t.path.string());
    ::close(lock);
    CHECK(removed.size() == 3);
    CHECK(listing(t.path) == std::vector<std::string>{"c.annc.tmp.ann.1.0", "link.tmp.ann.1.9", "notes.tmp.4999999.1",
                                                      "photos.tmp.4999998.2", "photos.tmp.4999998.2/mine",
                                                      "plain.json", "user.tmp.ann.notes", "x.tmp.ann.5",
                                                      "y.tmp.ann.1.2.3"});
    // Its writer gone (the lock released), the busy one is stale too.
    CHECK(io::remove_stale_temporaries(t.path.string()) == std::vector<std::string>{busy});
}

TEST_CASE("a signal during an atomic write removes its temporary file", "[hostile][temp]") {
    TempDir t("inflight");
    const std::string path = t / "result.json";
    const pid_t pid = ::fork();
    if (pid == 0) {
        io::on_signal_remove_temporaries();
        io::write_file_atomic(path, [](io::AtomicFileWriter& w) {
            w.write("partial");
            ::raise(SIGTERM);  // dies here, mid-write, as under Ctrl-C or kill
            w.write("never");
        });
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGTERM);
    CHECK(fs::is_empty(t.path));
}

// ---- class 7: command lines that paste back, folders that are not shared -------------------

TEST_CASE("shell_quote: every word pastes back into sh exactly", "[hostile][cli]") {
    TempDir t("quote");
    const std::vector<std::string> words = {"plain", "with space", "it's", "\"double\"", "$HOME", "`ls`",
                                            "a\\b", "semi;colon", "", "new\nline", "*", "'", "--out=/x y/z"};
    std::string cmd = "printf '%s\\0'";
    for (const auto& w : words) cmd += " " + io::shell_quote(w);
    const std::string out = t / "out";
    REQUIRE(std::system((cmd + " > " + io::shell_quote(out)).c_str()) == 0);
    std::string expected;
    for (const auto& w : words) expected += w + std::string(1, '\0');
    CHECK(slurp(out) == expected);
}

#ifdef ANN_HOMEWORK
namespace {
struct Result {
    int code;
    std::string out;
};
Result run_homework(const std::string& args, const fs::path& log) {
    const int status =
        std::system((std::string(ANN_HOMEWORK) + " " + args + " > " + io::shell_quote(log.string()) + " 2>&1").c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), slurp(log)};
}
}  // namespace

TEST_CASE("homework: a second run into a folder being written is refused, as is a run with other options",
          "[hostile][cli]") {
    TempDir t("out_lock");
    const fs::path out = t.path / "res ults";  // a space too
    const std::string common = "--parts 2 --out " + io::shell_quote(out.string());
    auto first = run_homework(common + " --seed 1", t.path / "log1");
    INFO(first.out);
    REQUIRE(first.code == 0);
    CHECK(fs::exists(out / "run-options.json"));
    const std::string before = slurp(out / "part2" / "out.npy");
    {
        // Another run holds the folder: the lock homework takes, taken here by the test.
        const int fd = ::open(out.c_str(), O_RDONLY | O_DIRECTORY);
        REQUIRE(fd >= 0);
        REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
        auto second = run_homework(common + " --seed 1", t.path / "log2");
        ::close(fd);
        CHECK(second.code == 2);
        CHECK_THAT(second.out, Catch::Contains("another homework run is writing this folder"));
    }
    auto other = run_homework(common + " --seed 2", t.path / "log3");
    CHECK(other.code == 2);
    CHECK_THAT(other.out, Catch::Contains("run-options.json") && Catch::Contains("seed = 1, this run has 2"));
    CHECK(slurp(out / "part2" / "out.npy") == before);
    auto same = run_homework(common + " --seed 1", t.path / "log4");  // the same options: fine
    CHECK(same.code == 0);
}
#endif

TEST_CASE("plot_results: a weights array whose first rows claim a huge shape is refused before allocating",
          "[hostile][viz]") {
    TempDir t("wide_weights");
    const fs::path results = t.path / "results";
    fs::create_directories(results / "part3");
    // 8 levels of 256 along the first elements only: 256^8 wraps the element count to 0.
    std::string nested = "0";
    for (int level = 0; level < 8; ++level) {
        std::string row = "[" + nested;
        for (int i = 1; i < 256; ++i) row += ",0";
        nested = row + "]";
    }
    const std::string json = R"({"name":"mlp_1","loss_curve":[1],"train_acc_curve":[1],"val_acc_curve":[1],"test_acc":1,"weights":)" +
                             nested + "}";
    REQUIRE(json.size() < 10000);
    testutil::write_bytes((results / "part3" / "part3_mlp_1.json").string(), json);
    CHECK_THROWS_WITH(viz::write_homework_figures(results.string()),
                      Catch::Contains("part3_mlp_1.json") && Catch::Contains("not a rectangular array"));
}

TEST_CASE("extraction: a target that is not a folder is refused before extracting; a kept download never replaces "
          "the user's archive", "[hostile][cifar]") {
    TempDir t("target_kind");
    testutil::write_bytes(t / "cifar-10-batches-bin", "a file of the user's");
    testutil::write_gz(t / "a.tar.gz", testutil::tar_end());
    CHECK_THROWS_WITH(data::extract_cifar10(t / "a.tar.gz", t.path.string()),
                      Catch::Contains("cifar-10-batches-bin") && Catch::Contains("is not a folder"));
    CHECK(slurp(t / "cifar-10-batches-bin") == "a file of the user's");
    // A finished download whose destination already holds an archive: left as it was.
    testutil::write_bytes(t / "cifar-10-binary.tar.gz", "the user's archive");
    const std::string part = io::temp_path_for(t / "cifar-10-binary.tar.gz");
    testutil::write_bytes(part, "downloaded");
    {
        data::Cifar10Download dl(part, t / "cifar-10-binary.tar.gz", io::lock_temporary(part));
        CHECK_FALSE(dl.keep());
    }
    CHECK(slurp(t / "cifar-10-binary.tar.gz") == "the user's archive");
    CHECK_FALSE(fs::exists(part));  // the download is removed
    fs::remove(t / "cifar-10-binary.tar.gz");
    testutil::write_bytes(part, "downloaded");
    {
        data::Cifar10Download dl(part, t / "cifar-10-binary.tar.gz", io::lock_temporary(part));
        CHECK(dl.keep());
    }
    CHECK(slurp(t / "cifar-10-binary.tar.gz") == "downloaded");
}
