#pragma once
// The two yardsticks every benchmark table prints next to its GFLOP/s, measured in the same
// binary and run as the figures they judge:
//   fma_peak   - what the cores can do at all: a loop of independent FMAs on registers only (no
//                loads), on every thread at once; AVX-512 where the CPU has it, and AVX2 too, the
//                larger of the two is the peak (some CPUs run 512-bit FMAs at half rate, and
//                then the AVX2 loop is the real limit).
//   sgemm_peak - what a tuned library reaches on an easy shape: a 2048^3 sgemm through the same
//                OpenBLAS, with its own threads at the same count.
// Ratios to PyTorch swing 3x between machines; the fraction of the FMA peak does not.
// Which OpenBLAS kernel ran matters as much (OPENBLAS_CORETYPE can force an older one):
// openblas_core() says which it was.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "ann/backend/cpu/conv_direct_avx512.hpp"  // ANN_HAVE_AVX512_KERNELS, ANN_GCC_UNROLL, have_avx512
#include "ann/backend/cpu/gemm.hpp"
#include "ann/core/rng.hpp"

// OpenBLAS's own query (declared as threading.hpp declares openblas_set_num_threads: the CBLAS
// headers xtensor-blas includes do not have it).
extern "C" char* openblas_get_corename(void);

namespace bench {

struct FmaPeak {
    double gflops = 0;         // the larger of the two
    double avx512_gflops = 0;  // 0 where the CPU has no AVX-512
    double avx2_gflops = 0;    // 0 where the CPU has no AVX2+FMA
    std::string isa;           // the loop that gave `gflops`
};

namespace detail {

// 12 independent chains: more than latency (4) x FMA ports (2) needs, so the loop is bound by
// FMA throughput alone. Returns a value that depends on every chain, so nothing is dropped.
#if ANN_HAVE_AVX512_KERNELS
__attribute__((target("avx512f"))) inline float fma_chains_avx512(long iters) {
    __m512 acc[12];
    ANN_GCC_UNROLL(12)
    for (int k = 0; k < 12; ++k) acc[k] = _mm512_set1_ps(1.0f + 0.01f * k);
    const __m512 m = _mm512_set1_ps(0.9999999f), c = _mm512_set1_ps(1e-7f);
    for (long i = 0; i < iters; ++i) {
        ANN_GCC_UNROLL(12)
        for (int k = 0; k < 12; ++k) acc[k] = _mm512_fmadd_ps(acc[k], m, c);
    }
    __m512 s = acc[0];
    for (int k = 1; k < 12; ++k) s = _mm512_add_ps(s, acc[k]);
    return _mm512_reduce_add_ps(s);
}
__attribute__((target("avx2,fma"))) inline float fma_chains_avx2(long iters) {
    __m256 acc[12];
    ANN_GCC_UNROLL(12)
    for (int k = 0; k < 12; ++k) acc[k] = _mm256_set1_ps(1.0f + 0.01f * k);
    const __m256 m = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-7f);
    for (long i = 0; i < iters; ++i) {
        ANN_GCC_UNROLL(12)
        for (int k = 0; k < 12; ++k) acc[k] = _mm256_fmadd_ps(acc[k], m, c);
    }
    __m256 s = acc[0];
    for (int k = 1; k < 12; ++k) s = _mm256_add_ps(s, acc[k]);
    alignas(32) float v[8];
    _mm256_store_ps(v, s);
    float r = 0;
    for (float x : v) r += x;
    return r;
}
#endif

// Best of 3: `threads` threads released together, each running the loop; FLOPs over the wall
// time until the last one finishes.
template <class Loop>
double run_on_threads(int threads, long iters, double flops_per_iter, Loop loop) {
    std::atomic<float> sink{0};
    double best = 1e300;
    for (int rep = 0; rep < 3; ++rep) {
        std::atomic<int> ready{0};
        std::atomic<bool> go{false};
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t)
            pool.emplace_back([&] {
                ready.fetch_add(1);
                while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
                sink.store(loop(iters), std::memory_order_relaxed);
            });
        while (ready.load() < threads) std::this_thread::yield();
        const auto t0 = std::chrono::steady_clock::now();
        go.store(true, std::memory_order_release);
        for (auto& th : pool) th.join();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return threads * iters * flops_per_iter / best * 1e-9;
}

}  // namespace detail

inline FmaPeak measure_fma_peak(int threads) {
    FmaPeak p;
#if ANN_HAVE_AVX512_KERNELS
    const long iters = 20'000'000;  // ~0.1 s per thread at 2 FMA/cycle
    if (ann::cpu::have_avx512())
        p.avx512_gflops = detail::run_on_threads(threads, iters, 12 * 16 * 2, detail::fma_chains_avx512);
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        p.avx2_gflops = detail::run_on_threads(threads, iters, 12 * 8 * 2, detail::fma_chains_avx2);
#endif
    p.gflops = std::max(p.avx512_gflops, p.avx2_gflops);
    p.isa = p.gflops == 0 ? "none" : p.avx512_gflops >= p.avx2_gflops ? "avx512" : "avx2";
    return p;
}

// A 2048^3 sgemm through OpenBLAS with its own threads at `threads` (best of 5); leaves
// OpenBLAS single-threaded afterwards, as the library runs it (backend/cpu/gemm.hpp).
inline double measure_sgemm_peak(int threads) {
    const int n = 2048;
    std::vector<float> a(std::size_t(n) * n), b(a.size()), c(a.size());
    ann::Rng rng(1);
    for (auto& v : a) v = float(rng.uniform(-1, 1));
    for (auto& v : b) v = float(rng.uniform(-1, 1));
    ann::cpu::gemm<float>(false, false, n, n, n, 1.f, a.data(), n, b.data(), n, 0.f, c.data(), n);  // pins BLAS to 1
    openblas_set_num_threads(threads);
    double best = 1e300;
    for (int rep = 0; rep < 5; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        cxxblas::gemm(cxxblas::RowMajor, cxxblas::NoTrans, cxxblas::NoTrans, n, n, n, 1.f, a.data(), n, b.data(), n,
                      0.f, c.data(), n);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    openblas_set_num_threads(1);
    return 2.0 * n * n * n / best * 1e-9;
}

// The kernel OpenBLAS chose (or was forced to by OPENBLAS_CORETYPE), e.g. "SkylakeX", "Haswell".
inline std::string openblas_core() {
    const char* forced = std::getenv("OPENBLAS_CORETYPE");
    std::string s = openblas_get_corename();
    if (forced && *forced) s += std::string(" (OPENBLAS_CORETYPE=") + forced + ")";
    return s;
}

}  // namespace bench
