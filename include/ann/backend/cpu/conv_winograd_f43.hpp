#pragma once
// Winograd F(4x4,3x3): 3x3 kernels, 4x4 output tiles from 6x6 input patches, with the points
// 0, 1, -1, 2, -2 and infinity of F(2x2,5x5) (conv_winograd_f25.hpp), whose B^T it shares:
//   G rows = s_p (1, p, p^2) for p = 0, 1, -1, 2, -2 with s = 1/4, -1/6, -1/6, 1/24, 1/24,
//            and (0, 0, 1),
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
// 36 multiply-adds per tile and (o, c) for 16 outputs: 2.25 per output against F(2x2,3x3)'s 4
// and the direct 9 (4x fewer), and the transforms cost about half as much per output as
// F(2x2,3x3)'s (36 values in and out per 16 outputs, against 16 per 4). The price is accuracy:
// B^T's and A^T's larger entries make S (below) several times F(2x2,3x3)'s.
//
// Float error bound (tests/test_conv_winograd.cpp checks it), with the notation of
// conv_winograd_f23.hpp: U in double, rounded once (< 2u relative); V = B^T d B, two levels per
// pass (g_4); the C-term FMA chain (g_C); each pass of A^T at most three levels (y0 = (m0 + (m1 +
// m2)) + (m3 + m4), y3 = fma(8, m3 - m4, m1 - m2) + m5), so A^T M A carries g_6; the bias add
// u |y + b|. In all at most C+13 rounding factors per term:
//   |y_hat - y| <= g_{C+13} * S + u * |b|.
#include "ann/backend/cpu/conv_winograd_f25.hpp"
#include "ann/backend/cpu/simd.hpp"

namespace ann::cpu {

struct WinogradF43 {
    static constexpr int kR = 3, kM = 4, kA = 6;
    static constexpr int kBlockTiles = 64;  // tiles per block (1024 outputs): V and M in L2
    static constexpr double G[6][3] = {{1.0 / 4, 0, 0},
                                       {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                       {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                       {1.0 / 24, 2.0 / 24, 4.0 / 24},
                                       {1.0 / 24, -2.0 / 24, 4.0 / 24},
                                       {0, 0, 1}};

    template <class T>
    static void bt(const T d[6], T v[6]) {
        WinogradF25::bt(d, v);
    }
    // y = A^T m, three levels at most.
    template <class T>
    static void at(const T m[6], T y[4]) {
        const T s12 = m[1] + m[2], d12 = m[1] - m[2], s34 = m[3] + m[4], d34 = m[3] - m[4];
        y[0] = (m[0] + s12) + s34;
        y[1] = std::fma(T(2), d34, d12);
        y[2] = std::fma(T(4), s34, s12);
        y[3] = std::fma(T(8), d34, d12) + m[5];
    }
#if ANN_HAVE_AVX512_KERNELS
    ANN_AVX512_TARGET static void bt_zmm(const __m512 d[6], __m512 v[6]) {
        WinogradF25::bt_zmm(d, v);
    }
    ANN_AVX512_TARGET static void at_zmm(const __m512 m[6], __m512 y[4]) {
        const __m512 s12 = _mm512_add_ps(m[1], m[2]), d12 = _mm512_sub_ps(m[1], m[2]);
        const __m512 s34 = _mm512_add_ps(m[3], m[4]), d34 = _mm512_sub_ps(m[3], m[4]);
        y[0] = _mm512_add_ps(_mm512_add_ps(m[0], s12), s34);
        y[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.f), d34, d12);
        y[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.f), s34, s12);
        y[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.f), d34, d12), m[5]);
    }
#endif
};

}  // namespace ann::cpu
