#pragma once
// Direct stride-1, unpadded convolution of ONE image with AVX-512, no column matrix.
//   x is (C, H, W), wt is the weight repacked as (C*kh*kw, O) (output channel fastest),
//   y is (O, OH, OW) = conv(x) + bias (bias may be null).
//
// The idea ("full-width" outputs): compute y at flat positions p = oh*W + ow for ow in [0, W),
// not just [0, OW). Then for every kernel tap (c, i, j) the inputs of consecutive p are
// consecutive in memory: x[c, p + i*W + j]. So each tap is one plain vector load per 16
// outputs, broadcast-multiplied into a register block of 8 output channels x 32 positions
// (16 accumulators): 16 FMAs per 2 loads + 8 broadcasts, no im2col copy, no GEMM packing.
// The kw-1 junk columns per row are computed and dropped when the block is written out
// (efficiency OW/W: 94% for 32x32 inputs, 54% for the 13x13 layer of cnn_3).
//
// Backward-data uses the same kernel: for stride 1, dx = full correlation of dy with the
// flipped weights, i.e. this kernel on dy zero-padded by k-1 with wt'[(o,i,j)][c] = w[o,c,k-1-i,k-1-j].
//
// Compiled for AVX-512 by a function attribute and chosen at run time (have_avx512()), so a
// -march=x86-64-v2 build still gets it on a machine that has AVX-512.
#include <algorithm>
#include <cstddef>

#include "ann/backend/cpu/simd.hpp"

namespace ann::cpu {

#if ANN_HAVE_AVX512_KERNELS
namespace detail {

// One block: OB output channels x 32 full-width positions starting at p0; `full` is the
// number of valid full-width positions (outputs past it are masked off, and so are the loads
// that would read past the image).
template <int OB>
ANN_AVX512_TARGET inline void direct_block(const float* x, int H, int W, int C, int kh, int kw,
                                           const float* wt, int O, int o0, int p0, int full,
                                           float* out, int out_stride) {
    __m512 acc0[OB], acc1[OB];
ANN_GCC_UNROLL(8)
    for (int o = 0; o < OB; ++o) acc0[o] = acc1[o] = _mm512_setzero_ps();
    const int left = full - p0;
    const __mmask16 m0 = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << std::max(left, 0)) - 1);
    const int left1 = left - 16;
    const __mmask16 m1 = left1 >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << std::max(left1, 0)) - 1);
    const float* w = wt + o0;
    for (int c = 0; c < C; ++c) {
        const float* xc = x + std::size_t(c) * H * W + p0;
        for (int i = 0; i < kh; ++i)
            for (int j = 0; j < kw; ++j, w += O) {
                const float* xp = xc + i * W + j;
                const __m512 v0 = _mm512_maskz_loadu_ps(m0, xp);
                const __m512 v1 = _mm512_maskz_loadu_ps(m1, xp + 16);
ANN_GCC_UNROLL(8)
                for (int o = 0; o < OB; ++o) {
                    const __m512 wo = _mm512_set1_ps(w[o]);
                    acc0[o] = _mm512_fmadd_ps(wo, v0, acc0[o]);
                    acc1[o] = _mm512_fmadd_ps(wo, v1, acc1[o]);
                }
            }
    }
ANN_GCC_UNROLL(8)
    for (int o = 0; o < OB; ++o) {
        _mm512_mask_storeu_ps(out + std::size_t(o) * out_stride + p0, m0, acc0[o]);
        _mm512_mask_storeu_ps(out + std::size_t(o) * out_stride + p0 + 16, m1, acc1[o]);
    }
}

template <int OB>
inline void direct_blocks(const float* x, int H, int W, int C, int kh, int kw, const float* wt, int O, int o0,
                          int full, float* tmp) {
    for (int p0 = 0; p0 < full; p0 += 32) direct_block<OB>(x, H, W, C, kh, kw, wt, O, o0, p0, full, tmp + std::size_t(o0) * full, full);
}

}  // namespace detail

// tmp holds O * ((OH-1)*W + OW) floats (the full-width outputs).
inline void conv2d_direct_image_avx512(const float* x, int C, int H, int W, int kh, int kw, const float* wt, int O,
                                       const float* bias, float* y, float* tmp) {
    const int OH = H - kh + 1, OW = W - kw + 1, full = (OH - 1) * W + OW;
    int o0 = 0;
    for (; o0 + 8 <= O; o0 += 8) detail::direct_blocks<8>(x, H, W, C, kh, kw, wt, O, o0, full, tmp);
    switch (O - o0) {
        case 0: break;
        case 1: detail::direct_blocks<1>(x, H, W, C, kh, kw, wt, O, o0, full, tmp); break;
        case 2: detail::direct_blocks<2>(x, H, W, C, kh, kw, wt, O, o0, full, tmp); break;
        case 3: detail::direct_blocks<3>(x, H, W, C, kh, kw, wt, O, o0, full, tmp); break;
        case 4: detail::direct_blocks<4>(x, H, W, C, kh, kw, wt, O, o0, full, tmp); break;
        case 5: detail::direct_blocks<5>(x, H, W, C, kh, kw, wt, O, o0, full, tmp); break;
        case 6: detail::direct_blocks<6>(x, H, W, C, kh, kw, wt, O, o0, full, tmp); break;
        default: detail::direct_blocks<7>(x, H, W, C, kh, kw, wt, O, o0, full, tmp); break;
    }
    // Drop the junk columns, add the bias.
    for (int o = 0; o < O; ++o) {
        const float b = bias ? bias[o] : 0.f;
        const float* src = tmp + std::size_t(o) * full;
        float* dst = y + std::size_t(o) * OH * OW;
        for (int oh = 0; oh < OH; ++oh)
            for (int ow = 0; ow < OW; ++ow) dst[oh * OW + ow] = src[oh * W + ow] + b;
    }
}
#endif

}  // namespace ann::cpu
