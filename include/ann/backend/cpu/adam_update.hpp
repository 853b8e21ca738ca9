#pragma once
// The element-wise Adam update (PyTorch's rule, see optim/adam.hpp) as a CPU kernel:
//   d = g + wd w (Adam's L2 term) ; w <- decay w (AdamW) ;
//   m <- b1 m + (1-b1) d ;  v <- b2 v + (1-b2) d^2 ;  w <- w - step * m / (sqrt(v) / sqrt_bc2 + eps)
// (Backend::adam_update has the contract; the two decay terms only when they are switched on.)
// Why a kernel: std::sqrt may set errno, so GCC keeps the plain loop scalar (sqrt and divide
// one element at a time), and for the MLPs that loop was ~80% of a training step. With AVX-512
// (chosen at run time, like the conv kernels) 16 elements go at once, the last partial vector
// under a mask, so every element sees the same operations wherever a thread's slice starts:
// the result does not depend on the thread count. Elsewhere the original scalar loop runs.
// (maskz_sqrt rather than sqrt: GCC 12's header trips -Wmaybe-uninitialized on the latter.)
#include <cmath>
#include <cstddef>
#include <type_traits>

#include "ann/backend/backend.hpp"
#include "ann/backend/cpu/simd.hpp"
#include "ann/backend/cpu/thread_pool.hpp"

namespace ann::cpu {

template <class T>
void adam_update_scalar(T* w, const T* g, T* m, T* v, std::size_t lo, std::size_t hi, const AdamStep<T>& h) {
    const T b1 = h.beta1, b2 = h.beta2, step_size = h.step_size, sqrt_bc2 = h.sqrt_bc2, eps = h.eps;
    const T wd = h.weight_decay, decay = h.decay;
    const bool l2 = wd != T(0), decoupled = decay != T(1);
    for (std::size_t j = lo; j < hi; ++j) {
        T d = g[j];
        if (l2) d = d + wd * w[j];
        if (decoupled) w[j] *= decay;
        m[j] = b1 * m[j] + (T(1) - b1) * d;
        v[j] = b2 * v[j] + (T(1) - b2) * d * d;
        w[j] -= step_size * (m[j] / (std::sqrt(v[j]) / sqrt_bc2 + eps));
    }
}

#if ANN_HAVE_AVX512_KERNELS
ANN_AVX512_TARGET inline void adam_update_avx512(float* w, const float* g, float* m, float* v,
                                                 std::size_t lo, std::size_t hi,
                                                 const AdamStep<float>& h) {
    const __m512 vb1 = _mm512_set1_ps(h.beta1), vb2 = _mm512_set1_ps(h.beta2), c1 = _mm512_set1_ps(1.f - h.beta1),
                 c2 = _mm512_set1_ps(1.f - h.beta2), vstep = _mm512_set1_ps(h.step_size),
                 vbc = _mm512_set1_ps(h.sqrt_bc2), veps = _mm512_set1_ps(h.eps), vwd = _mm512_set1_ps(h.weight_decay),
                 vdecay = _mm512_set1_ps(h.decay);
    const bool l2 = h.weight_decay != 0.f, decoupled = h.decay != 1.f;
    for (std::size_t j = lo; j < hi; j += 16) {
        const std::size_t left = hi - j;
        const __mmask16 k = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
        __m512 gj = _mm512_maskz_loadu_ps(k, g + j);
        __m512 w0 = _mm512_maskz_loadu_ps(k, w + j);
        if (l2) gj = _mm512_fmadd_ps(vwd, w0, gj);
        if (decoupled) w0 = _mm512_mul_ps(w0, vdecay);
        const __m512 mj = _mm512_fmadd_ps(vb1, _mm512_maskz_loadu_ps(k, m + j), _mm512_mul_ps(c1, gj));
        const __m512 vj = _mm512_fmadd_ps(vb2, _mm512_maskz_loadu_ps(k, v + j), _mm512_mul_ps(_mm512_mul_ps(c2, gj), gj));
        const __m512 den = _mm512_add_ps(_mm512_div_ps(_mm512_maskz_sqrt_ps(k, vj), vbc), veps);
        const __m512 wj = _mm512_fnmadd_ps(vstep, _mm512_div_ps(mj, den), w0);
        _mm512_mask_storeu_ps(m + j, k, mj);
        _mm512_mask_storeu_ps(v + j, k, vj);
        _mm512_mask_storeu_ps(w + j, k, wj);
    }
}
#endif

template <class T>
void adam_update(T* w, const T* g, T* m, T* v, std::size_t n, const AdamStep<T>& h) {
    parallel_for(n, [&](std::size_t lo, std::size_t hi) {
#if ANN_HAVE_AVX512_KERNELS
        if constexpr (std::is_same_v<T, float>) {
            if (have_avx512()) {
                adam_update_avx512(w, g, m, v, lo, hi, h);
                return;
            }
        }
#endif
        adam_update_scalar(w, g, m, v, lo, hi, h);
    }, std::size_t(1) << 14);
}

}  // namespace ann::cpu
