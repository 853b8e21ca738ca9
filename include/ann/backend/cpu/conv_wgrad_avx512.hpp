#pragma once
// Weight gradient of a stride-1, unpadded convolution for ONE image with AVX-512.
//   x is (C, H, W), dy is (O, OH, OW); out (O, C*kh*kw) = dy x_cols^T, OVERWRITTEN
//   (the caller sums the per-image results in image order).
//
// The same full-width idea as conv_direct_avx512.hpp: with dy spread to width W (zeros in
// the kw-1 junk columns, `dyz`), every weight's gradient is a dot product of two contiguous
// vectors:  dw[o, (c,i,j)] = sum_p dyz[o, p] * x[c, p + i*W + j],  p < (OH-1)*W + OW.
// A register block of 8 output channels x 2 taps keeps 16 vector accumulators; each step
// loads 8 dy vectors and 2 x vectors for 16 FMAs, then one horizontal sum per weight at the end.
#include <algorithm>
#include <cstddef>

#include "ann/backend/cpu/conv_direct_avx512.hpp"
#include "ann/backend/cpu/simd.hpp"

namespace ann::cpu {

#if ANN_HAVE_AVX512_KERNELS
namespace detail {

template <int OB, int RB>
ANN_AVX512_TARGET inline void wgrad_block(const float* dyz, const float* x, int H, int W,
                                          int kh, int kw, int full, int o0, int r0, int R,
                                          float* out) {
    __m512 acc[OB][RB];
ANN_GCC_UNROLL(8)
    for (int o = 0; o < OB; ++o)
ANN_GCC_UNROLL(2)
        for (int r = 0; r < RB; ++r) acc[o][r] = _mm512_setzero_ps();
    const float* xr[RB];
    for (int r = 0; r < RB; ++r) {
        const int rr = r0 + r, c = rr / (kh * kw), i = (rr / kw) % kh, j = rr % kw;
        xr[r] = x + std::size_t(c) * H * W + i * W + j;
    }
    for (int p = 0; p < full; p += 16) {
        const int left = full - p;
        const __mmask16 m = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
        __m512 xv[RB];
ANN_GCC_UNROLL(2)
        for (int r = 0; r < RB; ++r) xv[r] = _mm512_maskz_loadu_ps(m, xr[r] + p);
ANN_GCC_UNROLL(8)
        for (int o = 0; o < OB; ++o) {
            const __m512 d = _mm512_maskz_loadu_ps(m, dyz + std::size_t(o0 + o) * full + p);
ANN_GCC_UNROLL(2)
            for (int r = 0; r < RB; ++r) acc[o][r] = _mm512_fmadd_ps(d, xv[r], acc[o][r]);
        }
    }
    // Horizontal sums through one spill after the loop. (Calling a reduction helper on acc, or
    // GCC 12's _mm512_reduce_add_ps, made GCC keep acc in memory inside the loop, and the
    // latter also trips -Wuninitialized in GCC's own header.)
    alignas(64) float t[OB * RB][16];
ANN_GCC_UNROLL(8)
    for (int o = 0; o < OB; ++o)
ANN_GCC_UNROLL(2)
        for (int r = 0; r < RB; ++r) _mm512_store_ps(t[o * RB + r], acc[o][r]);
    for (int o = 0; o < OB; ++o)
        for (int r = 0; r < RB; ++r) {
            const float* v = t[o * RB + r];
            __m128 q = _mm_add_ps(_mm_add_ps(_mm_load_ps(v), _mm_load_ps(v + 4)),
                                  _mm_add_ps(_mm_load_ps(v + 8), _mm_load_ps(v + 12)));
            q = _mm_add_ps(q, _mm_movehl_ps(q, q));
            q = _mm_add_ss(q, _mm_shuffle_ps(q, q, 1));
            out[std::size_t(o0 + o) * R + r0 + r] = _mm_cvtss_f32(q);
        }
}

template <int OB>
inline void wgrad_oblock(const float* dyz, const float* x, int H, int W, int kh, int kw, int full, int o0, int R,
                         float* out) {
    int r0 = 0;
    for (; r0 + 2 <= R; r0 += 2) wgrad_block<OB, 2>(dyz, x, H, W, kh, kw, full, o0, r0, R, out);
    if (r0 < R) wgrad_block<OB, 1>(dyz, x, H, W, kh, kw, full, o0, r0, R, out);
}

}  // namespace detail

// dyz: scratch of O * ((OH-1)*W + OW) floats.
inline void conv2d_wgrad_image_avx512(const float* x, const float* dy, int C, int H, int W, int kh, int kw, int O,
                                      float* out, float* dyz) {
    const int OH = H - kh + 1, OW = W - kw + 1, full = (OH - 1) * W + OW, R = C * kh * kw;
    for (int o = 0; o < O; ++o) {
        float* d = dyz + std::size_t(o) * full;
        std::fill(d, d + full, 0.f);
        for (int oh = 0; oh < OH; ++oh)
            std::copy(dy + (std::size_t(o) * OH + oh) * OW, dy + (std::size_t(o) * OH + oh + 1) * OW, d + oh * W);
    }
    int o0 = 0;
    for (; o0 + 8 <= O; o0 += 8) detail::wgrad_oblock<8>(dyz, x, H, W, kh, kw, full, o0, R, out);
    switch (O - o0) {
        case 0: break;
        case 1: detail::wgrad_oblock<1>(dyz, x, H, W, kh, kw, full, o0, R, out); break;
        case 2: detail::wgrad_oblock<2>(dyz, x, H, W, kh, kw, full, o0, R, out); break;
        case 3: detail::wgrad_oblock<3>(dyz, x, H, W, kh, kw, full, o0, R, out); break;
        case 4: detail::wgrad_oblock<4>(dyz, x, H, W, kh, kw, full, o0, R, out); break;
        case 5: detail::wgrad_oblock<5>(dyz, x, H, W, kh, kw, full, o0, R, out); break;
        case 6: detail::wgrad_oblock<6>(dyz, x, H, W, kh, kw, full, o0, R, out); break;
        default: detail::wgrad_oblock<7>(dyz, x, H, W, kh, kw, full, o0, R, out); break;
    }
}
#endif

}  // namespace ann::cpu
