#pragma once
// What every AVX-512 kernel of the CPU backend shares: whether this compiler can build them
// (ANN_HAVE_AVX512_KERNELS), whether this CPU can run them (have_avx512(), asked once), the
// host-only unroll hint, and lane masks.
//
// The kernels are compiled through `__attribute__((target("avx512f,fma")))` and chosen at run
// time, so a -march=x86-64-v2 build still gets them on a machine that has AVX-512.
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define ANN_HAVE_AVX512_KERNELS 1
#else
#define ANN_HAVE_AVX512_KERNELS 0
#endif

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
    static const bool yes = __builtin_cpu_supports("avx512f");
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
#endif

}  // namespace ann::cpu
