#pragma once
// A persistent pool for the CPU kernels: run(f) calls f(t) once for each t = 0..size()-1 and
// returns when all are done. t = 0 runs on the calling thread; any other t runs on whichever
// thread claims it first (a worker, or the caller once it is through with its own), so f must
// not make index t wait for index u (no barriers between indices).
//
// Why our own pool: kernels split work by a FIXED rule of the thread index (slice_of below),
// which is what makes results reproducible, and the pool stays alive between the ~20 parallel
// regions of a training step. Workers spin briefly before sleeping on a condition variable, so
// back-to-back regions do not pay a futex wake-up each (tens of microseconds here).
// OpenBLAS is kept at one thread (set_num_threads in threading.hpp) so the two never fight for
// the cores: every GEMM runs inside one of our threads.
//
// Nested run() calls (a kernel calling a kernel) and calls while another thread is inside run()
// execute all indices serially on the caller: the same slices, so the same results.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ANN_CPU_RELAX() _mm_pause()
#else
#define ANN_CPU_RELAX() std::this_thread::yield()
#endif

namespace ann::cpu {

// Items [begin, end) of thread t when n items are split over T threads: contiguous, sizes
// differing by at most one, the same for a given (n, T) on every run.
struct Slice {
    std::size_t begin, end;
};
inline Slice slice_of(std::size_t n, int t, int T) {
    return {n * t / T, n * (t + 1) / T};
}

class ThreadPool {
public:
    static ThreadPool& global() {
        static ThreadPool pool(default_size());
        return pool;
    }

    explicit ThreadPool(int n) { start(std::max(1, n)); }
    ~ThreadPool() { stop(); }
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return size_; }

    void resize(int n) {
        n = std::max(1, n);
        std::lock_guard<std::mutex> run_lock(run_m_);
        if (n == size_) return;
        stop();
        start(n);
    }

    // Indices are CLAIMED, not assigned: the caller runs 0, then claims whatever index no worker
    // has taken yet, and waits only for indices a worker has actually started. Why: this machine
    // is shared, and when another process holds one of the two cores our worker is often not
    // running when a region starts; with index t tied to worker t the caller spun until the OS
    // gave the worker a turn, and a 2-thread MLP step took 0.8 ms instead of 0.3 ms (slower than
    // one thread). The slices still depend only on the index, so results do not change.
    template <class F>
    void run(F&& f) {
        std::unique_lock<std::mutex> run_lock(run_m_, std::defer_lock);
        if (size_ == 1 || inside_run() || !run_lock.try_lock()) {
            for (int t = 0; t < size_; ++t) f(t);
            return;
        }
        using Fn = std::remove_reference_t<F>;
        job_ = [](void* ctx, int t) { (*static_cast<Fn*>(ctx))(t); };
        ctx_ = const_cast<void*>(static_cast<const void*>(&f));
        error_ = nullptr;
        finished_.store(0, std::memory_order_relaxed);
        const std::uint64_t gen = (state_.load(std::memory_order_relaxed) >> 32) + 1;
        state_.store(gen << 32 | 1u);  // index 0 is ours; seq_cst: pairs with sleepers_ below
        if (sleepers_.load() > 0) {  // a futex wake only when a worker has gone to sleep
            { std::lock_guard<std::mutex> lk(m_); }
            cv_.notify_all();
        }
        execute(0);
        int done = 1;
        for (int t; (t = claim(gen)) >= 0; ++done) execute(t);
        // Only indices a worker claimed are left: wait for those (spin, then yield, because on a
        // loaded machine that worker may need our core to finish).
        for (int spin = 0; finished_.load(std::memory_order_acquire) != size_ - done; ++spin) {
            if (spin < 2000)
                ANN_CPU_RELAX();
            else
                std::this_thread::yield();
        }
        if (error_) std::rethrow_exception(error_);
    }

private:
    static int default_size() {
        const unsigned hc = std::thread::hardware_concurrency();
        return hc == 0 ? 1 : static_cast<int>(hc);
    }
    static bool& inside_run() {
        thread_local bool inside = false;
        return inside;
    }

    // The next unclaimed index of job `gen`, or -1. state_ holds (generation << 32 | next index)
    // in one word, so a worker that wakes late cannot claim an index of a newer job by mistake.
    int claim(std::uint64_t gen) {
        std::uint64_t s = state_.load(std::memory_order_acquire);
        while ((s >> 32) == gen && int(s & 0xffffffffu) < size_)
            if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire))
                return int(s & 0xffffffffu);
        return -1;
    }

    void execute(int t) {
        inside_run() = true;
        try {
            job_(ctx_, t);
        } catch (...) {
            std::lock_guard<std::mutex> lk(error_m_);
            if (!error_) error_ = std::current_exception();
        }
        inside_run() = false;
    }

    // `seen` is the generation at start(), read before the thread exists: a run() that bumps it
    // before this thread first looks must still count as new work.
    void worker(std::uint64_t seen) {
        auto generation = [this] { return state_.load() >> 32; };
        for (;;) {
            std::uint64_t g = seen;
            // About 100 us of spinning covers the gap between the regions of one step. The
            // yields hand the core back at once when it is shared with the thread that has
            // the work (the caller, or another process).
            for (int spin = 0; spin < 2000 && (g = generation()) == seen && !stopping_; ++spin) {
                if (spin % 64 == 63)
                    std::this_thread::yield();
                else
                    ANN_CPU_RELAX();
            }
            if (g == seen) {
                std::unique_lock<std::mutex> lk(m_);
                sleepers_.fetch_add(1);  // seq_cst: run() either sees it or we see its new state
                cv_.wait(lk, [&] { return generation() != seen || stopping_; });
                sleepers_.fetch_sub(1);
                g = generation();
            }
            if (stopping_) return;
            seen = g;
            int n = 0;
            for (int t; (t = claim(g)) >= 0; ++n) execute(t);
            if (n) finished_.fetch_add(n, std::memory_order_acq_rel);
        }
    }

    void start(int n) {
        size_ = n;
        stopping_ = false;
        const std::uint64_t gen = state_.load() >> 32;
        for (int t = 1; t < n; ++t) workers_.emplace_back([this, gen] { worker(gen); });
    }
    void stop() {
        {
            std::lock_guard<std::mutex> lk(m_);
            stopping_ = true;
        }
        cv_.notify_all();
        for (auto& w : workers_) w.join();
        workers_.clear();
    }

    int size_ = 1;
    std::vector<std::thread> workers_;
    std::mutex run_m_, m_, error_m_;
    std::condition_variable cv_;
    std::atomic<std::uint64_t> state_{0};  // generation << 32 | next unclaimed index
    std::atomic<int> finished_{0};         // indices run by workers in the current job
    std::atomic<int> sleepers_{0};         // workers waiting on cv_
    std::atomic<bool> stopping_{false};
    void (*job_)(void*, int) = nullptr;
    void* ctx_ = nullptr;
    std::exception_ptr error_;
};

// f(begin, end) over [0, n) in the pool's fixed slices; serial when n is below min_parallel
// (a region costs a few microseconds, more than small element-wise loops).
template <class F>
void parallel_for(std::size_t n, F&& f, std::size_t min_parallel = 1) {
    ThreadPool& pool = ThreadPool::global();
    const int T = pool.size();
    if (T == 1 || n < min_parallel) {
        f(std::size_t(0), n);
        return;
    }
    pool.run([&](int t) {
        const Slice s = slice_of(n, t, T);
        if (s.begin < s.end) f(s.begin, s.end);
    });
}

// f(t, i) for every item i in [0, n), items handed out one at a time to whichever thread is
// free (t says which thread, for per-thread scratch). Use it when each item's result is
// independent of which thread computes it: then the result is deterministic, and a thread
// descheduled by the OS (other processes on the machine) does not hold up the rest.
template <class F>
void parallel_items(std::size_t n, F&& f) {
    ThreadPool& pool = ThreadPool::global();
    if (pool.size() == 1 || n <= 1) {
        for (std::size_t i = 0; i < n; ++i) f(0, i);
        return;
    }
    std::atomic<std::size_t> next{0};
    pool.run([&](int t) {
        for (std::size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) f(t, i);
    });
}

}  // namespace ann::cpu
