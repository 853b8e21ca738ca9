#pragma once
// The element-wise Adam update (PyTorch's rule, see optim/adam.hpp) as a CPU kernel:
//   m <- b1 m + (1-b1) g ;  v <- b2 v + (1-b2) g^2 ;  w <- w - step * m / (sqrt(v) / sqrt_bc2 + eps)
// Why a kernel: std::sqrt may set errno, so GCC keeps the plain loop scalar (sqrt and divide
// one element at a time), and for the MLPs that loop was ~80% of a training step. With AVX-512
// (chosen at run time, like the conv kernels) 16 elements go at once, the last partial vector
// under a mask, so every element sees the same operations wherever a thread's slice starts:
// the result does not depend on the thread count. Elsewhere the original scalar loop runs.
// (maskz_sqrt rather than sqrt: GCC 12's header trips -Wmaybe-uninitialized on the latter.)
#include <cmath>
#include <cstddef>
#include <type_traits>

#include "ann/backend/cpu/conv_direct_avx512.hpp"  // have_avx512(), ANN_HAVE_AVX512_KERNELS
#include "ann/backend/cpu/thread_pool.hpp"

namespace ann::cpu {

template <class T>
void adam_update_scalar(T* w, const T* g, T* m, T* v, std::size_t lo, std::size_t hi, T b1, T b2, T step_size,
                        T sqrt_bc2, T eps) {
    for (std::size_t j = lo; j < hi; ++j) {
        m[j] = b1 * m[j] + (T(1) - b1) * g[j];
        v[j] = b2 * v[j] + (T(1) - b2) * g[j] * g[j];
        w[j] -= step_size * (m[j] / (std::sqrt(v[j]) / sqrt_bc2 + eps));
    }
}

#if ANN_HAVE_AVX512_KERNELS
__attribute__((target("avx512f,fma"))) inline void adam_update_avx512(float* w, const float* g, float* m, float* v,
                                                                      std::size_t lo, std::size_t hi, float b1,
                                                                      float b2, float step_size, float sqrt_bc2,
                                                                      float eps) {
    const __m512 vb1 = _mm512_set1_ps(b1), vb2 = _mm512_set1_ps(b2), c1 = _mm512_set1_ps(1.f - b1),
                 c2 = _mm512_set1_ps(1.f - b2), vstep = _mm512_set1_ps(step_size), vbc = _mm512_set1_ps(sqrt_bc2),
                 veps = _mm512_set1_ps(eps);
    for (std::size_t j = lo; j < hi; j += 16) {
        const std::size_t left = hi - j;
        const __mmask16 k = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
        const __m512 gj = _mm512_maskz_loadu_ps(k, g + j);
        const __m512 mj = _mm512_fmadd_ps(vb1, _mm512_maskz_loadu_ps(k, m + j), _mm512_mul_ps(c1, gj));
        const __m512 vj = _mm512_fmadd_ps(vb2, _mm512_maskz_loadu_ps(k, v + j), _mm512_mul_ps(_mm512_mul_ps(c2, gj), gj));
        const __m512 den = _mm512_add_ps(_mm512_div_ps(_mm512_maskz_sqrt_ps(k, vj), vbc), veps);
        const __m512 wj = _mm512_fnmadd_ps(vstep, _mm512_div_ps(mj, den), _mm512_maskz_loadu_ps(k, w + j));
        _mm512_mask_storeu_ps(m + j, k, mj);
        _mm512_mask_storeu_ps(v + j, k, vj);
        _mm512_mask_storeu_ps(w + j, k, wj);
    }
}
#endif

template <class T>
void adam_update(T* w, const T* g, T* m, T* v, std::size_t n, T b1, T b2, T step_size, T sqrt_bc2, T eps) {
    parallel_for(n, [&](std::size_t lo, std::size_t hi) {
#if ANN_HAVE_AVX512_KERNELS
        if constexpr (std::is_same_v<T, float>) {
            if (have_avx512()) {
                adam_update_avx512(w, g, m, v, lo, hi, b1, b2, step_size, sqrt_bc2, eps);
                return;
            }
        }
#endif
        adam_update_scalar(w, g, m, v, lo, hi, b1, b2, step_size, sqrt_bc2, eps);
    }, std::size_t(1) << 14);
}

}  // namespace ann::cpu
