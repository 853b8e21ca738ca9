#pragma once
// What every AVX-512 kernel of the CPU backend shares: whether this compiler can build them
// (ANN_HAVE_AVX512_KERNELS), the instruction sets they are compiled for (ANN_AVX512_TARGET) and
// whether this CPU has them (have_avx512(), asked once), the host-only unroll hint, lane masks,
// and 8- and 16-lane float vectors behind one interface (FloatVec).
//
// The kernels are compiled through ANN_AVX512_TARGET and chosen at run time, so a
// -march=x86-64-v2 build still gets them on a machine that has AVX-512.
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define ANN_HAVE_AVX512_KERNELS 1
#else
#define ANN_HAVE_AVX512_KERNELS 0
#endif

// F, VL, DQ and BW (every AVX-512 CPU since Skylake-SP and Zen 4 has all four) and FMA. With
// avx512f alone the compiler has no EVEX forms of 128/256-bit instructions, hence only 16 ymm
// registers (the 8-lane kernels spilled) and slower sequences: in a -march=x86-64-v2 build the
// Winograd kernels measured 1.2-1.6x slower than with these (docs/performance.md, eighth session).
#define ANN_AVX512_TARGET __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,fma")))

// `#pragma GCC unroll n` for the host compiler; nvcc's front end does not know the pragma and
// warns (these headers are also read by the .cu files of the CUDA targets), so there it is
// left out (a hint only: the results are the same).
#define ANN_PRAGMA(x) _Pragma(#x)
#if defined(__CUDACC__)
#define ANN_GCC_UNROLL(n)
#else
#define ANN_GCC_UNROLL(n) ANN_PRAGMA(GCC unroll n)
#endif

namespace ann::cpu {

inline bool have_avx512() {
#if ANN_HAVE_AVX512_KERNELS
    static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                            __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
                            __builtin_cpu_supports("fma");
    return yes;
#else
    return false;
#endif
}

#if ANN_HAVE_AVX512_KERNELS
namespace detail {
// The first n of 16 lanes (none for n <= 0, all for n >= 16). Branch-free: with branches the
// compiler may copy a whole kernel per case (the Winograd transforms grew several-fold).
inline __mmask16 first_lanes(int n) {
    const unsigned k = unsigned(n < 0 ? 0 : n > 16 ? 16 : n);
    return __mmask16((1u << k) - 1);
}
}  // namespace detail

// VL float lanes (16: zmm, 8: ymm) for kernels written once for both widths.
template <int VL>
struct FloatVec;
template <>
struct FloatVec<16> {
    using T = __m512;
    ANN_AVX512_TARGET static T zero() { return _mm512_setzero_ps(); }
    ANN_AVX512_TARGET static T load(const float* p) { return _mm512_loadu_ps(p); }
    ANN_AVX512_TARGET static T bcast(const float* p) { return _mm512_set1_ps(*p); }
    ANN_AVX512_TARGET static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
    ANN_AVX512_TARGET static T fma_bcast(T a, const float* x, T c) { return fma(a, bcast(x), c); }
    ANN_AVX512_TARGET static T add(T a, T b) { return _mm512_add_ps(a, b); }
    ANN_AVX512_TARGET static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
};
template <>
struct FloatVec<8> {
    using T = __m256;
    ANN_AVX512_TARGET static T zero() { return _mm256_setzero_ps(); }
    ANN_AVX512_TARGET static T load(const float* p) { return _mm256_loadu_ps(p); }
    ANN_AVX512_TARGET static T bcast(const float* p) { return _mm256_set1_ps(*p); }
    ANN_AVX512_TARGET static T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
    ANN_AVX512_TARGET static T fma_bcast(T a, const float* x, T c) { return fma(a, bcast(x), c); }
    ANN_AVX512_TARGET static T add(T a, T b) { return _mm256_add_ps(a, b); }
    ANN_AVX512_TARGET static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
};
#endif

}  // namespace ann::cpu
