// The pool's contract (thread_pool.hpp): every index of a region runs exactly once, errors come
// back to the caller, and the caller claims indices no worker has started, so a region does not
// wait for a worker the OS is not running (the case of a core shared with another process).
#include <catch2/catch.hpp>

#include <sched.h>

#include <atomic>
#include <thread>
#include <vector>

#include "ann/ann.hpp"
#include "ann/backend/cpu/conv2d.hpp"

using namespace ann;

namespace {

// Confines the calling thread (and the threads it creates) to one CPU while alive.
struct OnOneCpu {
    cpu_set_t saved;
    bool ok = false;
    OnOneCpu() {
        if (sched_getaffinity(0, sizeof saved, &saved) != 0) return;
        cpu_set_t one;
        CPU_ZERO(&one);
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &saved)) {
                CPU_SET(c, &one);
                break;
            }
        ok = sched_setaffinity(0, sizeof one, &one) == 0;
    }
    ~OnOneCpu() {
        if (ok) sched_setaffinity(0, sizeof saved, &saved);
    }
};

// Runs `regions` regions on pool; returns how many indices > 0 the caller ran itself, and
// checks that every index ran exactly once in every region.
int caller_runs(cpu::ThreadPool& pool, int regions) {
    const int T = pool.size();
    const auto me = std::this_thread::get_id();
    int stolen = 0, wrong = 0;
    for (int r = 0; r < regions; ++r) {
        std::vector<std::atomic<int>> hits(T);
        std::vector<std::thread::id> who(T);
        pool.run([&](int t) {
            hits[t].fetch_add(1);
            who[t] = std::this_thread::get_id();
        });
        for (int t = 0; t < T; ++t) {
            wrong += hits[t].load() != 1;
            stolen += t > 0 && who[t] == me;
        }
        if (who[0] != me) ++wrong;
    }
    CHECK(wrong == 0);
    return stolen;
}

}  // namespace

TEST_CASE("thread pool: every index exactly once over many back-to-back regions", "[threads]") {
    for (int T : {2, 3, 4}) {
        INFO(T << " threads");
        cpu::ThreadPool pool(T);
        caller_runs(pool, 20000);
    }
}

TEST_CASE("thread pool: on one shared CPU the caller runs the indices its workers have not started",
          "[threads]") {
    OnOneCpu pin;
    if (!pin.ok) {
        WARN("sched_setaffinity refused here: the one-CPU case is not checked");
        return;
    }
    cpu::ThreadPool pool(2);  // its worker inherits the one-CPU affinity
    // With the worker and the caller on one CPU, the worker is usually not running when a region
    // starts: a pool that ties index 1 to the worker makes the caller wait for it every time
    // (stolen == 0); the claiming pool runs it on the caller instead.
    const int stolen = caller_runs(pool, 2000);
    CHECK(stolen > 0);
    // An error from an index the caller took over still comes back.
    CHECK_THROWS_AS(pool.run([&](int t) {
        if (t == 1) fail("index ", t);
    }), Error);
}

TEST_CASE("thread pool: results of the kernels do not depend on which thread ran an index", "[threads][determinism]") {
    // A conv forward (per-index scratch, images handed out by parallel_items) and parallel_for's
    // slices, with the pool spread out and confined to one CPU (indices moved to the caller):
    // the same bits.
    const int saved = cpu::num_threads();
    const cpu::ConvGeometry g{8, 28, 28, 5, 5, 1, 0};
    const int N = 6, O = 16;
    Rng rng(3);
    std::vector<float> x(std::size_t(N) * g.C * g.H * g.W), w(std::size_t(O) * g.rows()), b(O);
    for (auto* v : {&x, &w, &b})
        for (auto& e : *v) e = float(rng.uniform(-1, 1));
    auto run = [&] {
        std::vector<float> y(std::size_t(N) * O * g.cols());
        cpu::ConvWorkspace<float> work;
        for (int rep = 0; rep < 20; ++rep) cpu::conv2d_forward(x.data(), w.data(), b.data(), y.data(), N, O, g, work);
        std::vector<float> part(3, 0.0f);
        cpu::ThreadPool::global().run([&](int t) {
            const auto s = cpu::slice_of(x.size(), t, 3);
            for (std::size_t i = s.begin; i < s.end; ++i) part[t] += x[i] * float(i % 7);
        });
        y.insert(y.end(), part.begin(), part.end());
        return y;
    };
    cpu::set_num_threads(3);
    const auto spread = run();
    {
        OnOneCpu pin;
        if (!pin.ok) WARN("sched_setaffinity refused here: only the spread-out pool is checked");
        cpu::set_num_threads(1);
        cpu::set_num_threads(3);  // workers created on the one CPU
        CHECK(run() == spread);
    }
    cpu::set_num_threads(1);  // new workers, created with the whole affinity again
    cpu::set_num_threads(saved);
}
