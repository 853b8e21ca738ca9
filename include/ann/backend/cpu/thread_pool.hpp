#pragma once
// A persistent pool for the CPU kernels: run(f) calls f(t) for t = 0..size()-1, t = 0 on the
// calling thread, and returns when all are done.
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
        pending_.store(size_ - 1, std::memory_order_relaxed);
        {
            std::lock_guard<std::mutex> lk(m_);
            generation_.fetch_add(1, std::memory_order_release);
        }
        cv_.notify_all();
        execute(0);
        // Spin, then yield: on a loaded machine the worker we wait for may need our core.
        for (int spin = 0; pending_.load(std::memory_order_acquire) != 0; ++spin) {
            if (spin < 4000)
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
    void worker(int t, unsigned seen) {
        for (;;) {
            unsigned g = seen;
            // About 100 us of spinning covers the gap between the regions of one step.
            for (int spin = 0; spin < 2000 && (g = generation_.load(std::memory_order_acquire)) == seen; ++spin)
                ANN_CPU_RELAX();
            if (g == seen) {
                std::unique_lock<std::mutex> lk(m_);
                cv_.wait(lk, [&] { return generation_.load(std::memory_order_acquire) != seen || stopping_; });
                g = generation_.load(std::memory_order_acquire);
            }
            if (stopping_) return;
            seen = g;
            execute(t);
            pending_.fetch_sub(1, std::memory_order_acq_rel);
        }
    }

    void start(int n) {
        size_ = n;
        stopping_ = false;
        const unsigned gen = generation_.load(std::memory_order_acquire);
        for (int t = 1; t < n; ++t) workers_.emplace_back([this, t, gen] { worker(t, gen); });
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
    std::atomic<unsigned> generation_{0};
    std::atomic<int> pending_{0};
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
