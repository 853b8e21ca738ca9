// The `homework` program killed and resumed: SIGKILL at random moments (before any checkpoint,
// right after one, anywhere), then --resume until it finishes, must end with result files equal
// to an uninterrupted run's, value for value (bit for bit: doubles are compared exactly and
// JSON writes them in round-trip form). Only "seconds" (wall time) may differ. Ctrl-C (SIGINT)
// must stop with exit code 130, say how to resume, and resume the same way.
// Parts 3 (mlp_1, cnn_3; Adam) and 5 (cnn_3; SGD, scheduled runs restored from per-epoch
// checkpoints) on 200 training images, 2-4 epochs: about 5 s per complete run.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cifar_test_util.hpp"

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testutil::TempDir;

namespace {

std::vector<std::string> homework_args(const std::string& out, const std::string& parts = "3,5",
                                       const std::string& archs = "mlp_1,cnn_3", const std::string& epochs = "2") {
    return {ANN_HOMEWORK, "--parts", parts, "--archs", archs, "--part5-arch", "cnn_3", "--quick",
            "--train-per-class", "20", "--val-per-class", "10", "--test-per-class", "10", "--train-acc-images", "50",
            "--epochs", epochs, "--part5-epochs", "3", "--schedule-epochs", "4", "--threads", "1", "--seed", "5",
            "--quiet", "--data", fs::path(testutil::real_cifar_dir()).parent_path().string(), "--out", out};
}

// Starts the program with stdout/stderr into files; returns its pid. file_limit > 0: the
// largest file it may write, in bytes (RLIMIT_FSIZE, a disk that is full past that size).
pid_t start(std::vector<std::string> args, const std::string& log, rlim_t file_limit = 0) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (file_limit) {
            const rlimit lim{file_limit, file_limit};
            ::setrlimit(RLIMIT_FSIZE, &lim);
        }
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) ::dup2(fd, 1), ::dup2(fd, 2);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    return pid;
}

// Waits for the process; returns its exit code, or 128 + signal.
int finish(pid_t pid) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::size_t checkpoint_count(const std::string& out) {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(fs::path(out) / "checkpoints", ec))
        n += e.path().extension() == ".annc";
    return n;
}

// Every result file under out/part*, with wall times removed.
std::map<std::string, Json> results(const std::string& out) {
    std::map<std::string, Json> r;
    for (const auto& e : fs::recursive_directory_iterator(out)) {
        // run-options.json, at the top, records the options; results are in part*/
        if (e.path().extension() != ".json" || e.path().parent_path() == fs::path(out)) continue;
        Json j = Json::parse(std::ifstream(e.path()));
        j.erase("seconds");
        r[fs::relative(e.path(), out).string()] = j;
    }
    return r;
}

const std::map<std::string, Json>& reference() {
    static const TempDir dir("resume_ref");
    static const std::map<std::string, Json> ref = [] {
        const std::string out = dir / "out";
        REQUIRE(finish(start(homework_args(out), dir / "log")) == 0);
        return results(out);
    }();
    return ref;
}

using Clock = std::chrono::steady_clock;

// Kills the run with SIGKILL when `when` says so (polled every 5 ms); returns true if it was
// killed, false if it finished first (then requires exit code 0).
template <class When>
bool run_and_kill(const std::string& out, const std::string& log, bool resume, When when) {
    auto args = homework_args(out);
    if (resume) args.push_back("--resume");
    const pid_t pid = start(args, log);
    const auto t0 = Clock::now();
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            INFO(std::ifstream(log).rdbuf());
            REQUIRE(WIFEXITED(status));
            REQUIRE(WEXITSTATUS(status) == 0);
            return false;
        }
        if (when(std::chrono::duration<double>(Clock::now() - t0).count())) {
            ::kill(pid, SIGKILL);
            CHECK(finish(pid) == 128 + SIGKILL);
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

// Resumes and lets the run complete.
void resume_to_end(const std::string& out, const std::string& log) {
    REQUIRE_FALSE(run_and_kill(out, log, true, [](double) { return false; }));
}

void require_same_as_reference(const std::string& out) {
    const auto& ref = reference();
    const auto got = results(out);
    REQUIRE(ref.size() == 4);  // part3 mlp_1, cnn_3; part5 cnn_3, scheduled
    REQUIRE(got.size() == ref.size());
    for (const auto& [name, j] : ref) {
        INFO(name);
        REQUIRE(got.count(name) == 1);
        CHECK(got.at(name) == j);
        CHECK(got.at(name).dump() == j.dump());
    }
}

// These tests start `homework` on real CIFAR-10: too slow under the sanitizers, and they need
// the shared archive. Says why when they cannot run.
bool can_run_homework() {
#ifdef ANN_SANITIZE
    WARN("skipped under sanitizers (too slow)");
    return false;
#endif
    if (testutil::real_cifar_dir().empty()) {
        WARN("shared CIFAR-10 archive not found; skipped");
        return false;
    }
    return true;
}

std::string read_log(const fs::path& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("resume: SIGKILL at random moments, --resume, results identical to an uninterrupted run", "[resume][slow]") {
#ifdef ANN_SANITIZE
    WARN("skipped under sanitizers (too slow); the library-level resume tests in test_train run there");
    return;
#endif
    if (testutil::real_cifar_dir().empty()) {
        WARN("shared CIFAR-10 archive not found; skipped");
        return;
    }
    const auto t_start = Clock::now();
    const auto& ref = reference();
    const double t_ref = std::chrono::duration<double>(Clock::now() - t_start).count();
    REQUIRE_FALSE(ref.empty());
    const unsigned seed = std::random_device{}();
    INFO("random kill moments from seed " << seed << "; an uninterrupted run took " << t_ref << " s");
    std::mt19937 rng(seed);
    auto uniform = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };

    SECTION("killed before any checkpoint was written") {
        TempDir t("resume_early");
        const std::string out = t / "out";
        // While the data loads (no checkpoint yet): the resume starts from scratch.
        const double at = uniform(0.05, 0.3);
        REQUIRE(run_and_kill(out, t / "log", false, [&](double s) { return s >= at; }));
        CHECK(checkpoint_count(out) == 0);
        resume_to_end(out, t / "log");
        require_same_as_reference(t / "out");
    }
    SECTION("killed just after a checkpoint, then at random moments of the resumed runs") {
        TempDir t("resume_mid");
        const std::string out = t / "out";
        const double delay = uniform(0.0, 0.2);
        double seen_at = -1;
        REQUIRE(run_and_kill(out, t / "log", false, [&](double s) {
            if (seen_at < 0 && checkpoint_count(out) > 0) seen_at = s;
            return seen_at >= 0 && s >= seen_at + delay;
        }));
        CHECK(checkpoint_count(out) > 0);
        int kills = 0;
        for (int i = 0; i < 2; ++i) {
            const double at = uniform(0.3, t_ref);
            kills += run_and_kill(out, t / "log", true, [&](double s) { return s >= at; });
        }
        INFO("kills of resumed runs: " << kills);
        resume_to_end(out, t / "log");
        require_same_as_reference(out);
        // It resumed (rather than silently starting over, which would give the same files).
        const std::string log = read_log(t / "log");
        CHECK_THAT(log, Catch::Contains("part3 mlp_1: resuming from") && Catch::Contains("epochs done"));
    }
    SECTION("killed late (part 5's scheduled runs), twice") {
        TempDir t("resume_late");
        const std::string out = t / "out";
        // Part 5's checkpoints exist from about half-way; kill after the first of them.
        double seen_at = -1;
        const double delay = uniform(0.0, 0.5);
        run_and_kill(out, t / "log", false, [&](double s) {
            if (seen_at < 0 && fs::exists(fs::path(out) / "checkpoints" / "part5-cnn_3-lr1-epoch1.annc")) seen_at = s;
            return seen_at >= 0 && s >= seen_at + delay;
        });
        seen_at = -1;
        run_and_kill(out, t / "log", true, [&](double s) {
            if (seen_at < 0 && fs::exists(fs::path(out) / "checkpoints" / "part5-cnn_3-sched-a.annc")) seen_at = s;
            return seen_at >= 0 && s >= seen_at + 0.05;
        });
        resume_to_end(out, t / "log");
        require_same_as_reference(out);
    }
}

TEST_CASE("resume: Ctrl-C saves, says how to resume, exits 130, and the resumed run matches a separate run", "[resume][slow]") {
    if (!can_run_homework()) return;
    TempDir t("resume_sigint");
    const std::string out = t / "out";
    const pid_t pid = start(homework_args(out), t / "log");
    while (checkpoint_count(out) == 0) {
        int status = 0;
        REQUIRE(::waitpid(pid, &status, WNOHANG) == 0);  // still running
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(pid, SIGINT);
    CHECK(finish(pid) == 130);
    const std::string log = read_log(t / "log");
    CHECK_THAT(log, Catch::Contains("interrupted") && Catch::Contains("resume with:") && Catch::Contains("--resume"));
    CHECK(checkpoint_count(out) > 0);
    resume_to_end(out, t / "log2");
    // A second complete, separate run (the reference) agrees: runs are reproducible.
    require_same_as_reference(out);
}

TEST_CASE("resume: a checkpoint written with other options is refused", "[resume]") {
    if (!can_run_homework()) return;
    TempDir t("resume_options");
    const std::string out = t / "out";
    REQUIRE(finish(start(homework_args(out, "3", "cnn_3", "1"), t / "log")) == 0);
    auto args = homework_args(out, "3", "cnn_3", "2");
    args.push_back("--resume");
    CHECK(finish(start(args, t / "log2")) == 2);
    const std::string log = read_log(t / "log2");
    CHECK_THAT(log, Catch::Contains("run-options.json") && Catch::Contains("epochs = 1, this run has 2"));
    // Without the folder's record (an older results folder), the checkpoint itself says it.
    fs::remove(fs::path(out) / "run-options.json");
    CHECK(finish(start(args, t / "log3")) == 2);
    CHECK_THAT(read_log(t / "log3"), Catch::Contains("part3-cnn_3.annc") && Catch::Contains("epochs"));
}

TEST_CASE("homework: a diverging run is stopped and recorded as diverged, the next one runs", "[resume][diverge]") {
    if (!can_run_homework()) return;
    TempDir t("diverge");
    const std::string out = t / "out";
    auto args = homework_args(out, "3,4", "mlp_1", "2");
    args.insert(args.end(), {"--adam-lr", "1e30"});  // Adam's steps are about lr: weights overflow
    REQUIRE(finish(start(args, t / "log")) == 0);
    const Json p3 = Json::parse(std::ifstream(fs::path(out) / "part3" / "part3_mlp_1.json"));
    CHECK(p3["diverged"] == true);
    REQUIRE(p3["diverged_runs"].size() == 1);
    CHECK(p3["diverged_runs"][0]["run"] == "part3 mlp_1");
    const std::size_t step = p3["diverged_runs"][0]["step"];
    CHECK(p3["loss_curve"].size() <= step / 10 + 1);
    const Json p4 = Json::parse(std::ifstream(fs::path(out) / "part4" / "part4_mlp_1.json"));
    CHECK(p4["diverged"] == false);
    CHECK(p4["relu_loss_curve"].size() == 2 * 4 / 10 + 1);  // 2 epochs of 4 steps, recorded every 10
    const std::string log = read_log(t / "log");
    CHECK_THAT(log, Catch::Contains("part3 mlp_1 diverged at step"));
    // Resumed, the diverged run stays diverged: same file.
    args.push_back("--resume");
    REQUIRE(finish(start(args, t / "log2")) == 0);
    Json again = Json::parse(std::ifstream(fs::path(out) / "part3" / "part3_mlp_1.json"));
    again.erase("seconds");
    Json first = p3;
    first.erase("seconds");
    CHECK(again == first);
}

TEST_CASE("homework --resume: a damaged checkpoint is a one-line error naming it, exit code 2", "[resume][hostile]") {
    if (!can_run_homework()) return;
    TempDir t("resume_damaged");
    const std::string out = t / "out";
    REQUIRE(finish(start(homework_args(out, "3", "cnn_3", "1"), t / "log")) == 0);
    const fs::path ckpt = fs::path(out) / "checkpoints" / "part3-cnn_3.annc";
    REQUIRE(fs::exists(ckpt));
    fs::resize_file(ckpt, fs::file_size(ckpt) / 2);
    auto args = homework_args(out, "3", "cnn_3", "1");
    args.push_back("--resume");
    CHECK(finish(start(args, t / "log2")) == 2);
    std::ifstream in(t / "log2");
    std::string line, last;
    int errors = 0;  // stdout has the data summary before; stderr one line
    while (std::getline(in, line)) errors += line.rfind("homework:", 0) == 0, last = line;
    CHECK(errors == 1);
    CHECK_THAT(last, Catch::StartsWith("homework: ") && Catch::Contains("part3-cnn_3.annc") && Catch::Contains("truncated"));
}

TEST_CASE("homework: a full disk while writing a checkpoint is a one-line error, exit 2, no partial file", "[resume][hostile]") {
    if (!can_run_homework()) return;
    TempDir t("disk_full");
    const std::string out = t / "out";
    // cnn_3's checkpoint is about 90 kB (weights + Adam moments): it does not fit in 20 kB.
    CHECK(finish(start(homework_args(out, "3", "cnn_3", "1"), t / "log", 20000)) == 2);
    const std::string log = read_log(t / "log");
    CHECK_THAT(log, Catch::Contains("homework: cannot write '") && Catch::Contains("part3-cnn_3.annc") &&
                        Catch::Contains("File too large"));
    for (const auto& e : fs::recursive_directory_iterator(out)) {
        INFO(e.path());
        // no checkpoint, no temporary, no result file: only the options record, written first
        CHECK((e.is_directory() || e.path() == fs::path(out) / "run-options.json"));
    }
}

TEST_CASE("determinism: two runs with the same seed and 2 threads write the same results", "[resume][determinism]") {
    if (!can_run_homework()) return;
    TempDir t("threads2");
    std::map<std::string, Json> first;
    for (const char* out : {"a", "b"}) {
        auto args = homework_args(t / out, "3", "cnn_3", "2");
        auto th = std::find(args.begin(), args.end(), "--threads");
        REQUIRE(th != args.end());
        *(th + 1) = "2";
        REQUIRE(finish(start(args, t / "log")) == 0);
        const auto r = results(t / out);
        REQUIRE(r.size() == 1);
        if (first.empty())
            first = r;
        else
            CHECK(r.begin()->second.dump() == first.begin()->second.dump());
    }
}
