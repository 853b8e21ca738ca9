#pragma once
// Winograd F(2x2,5x5): 5x5 kernels, 2x2 output tiles from 6x6 input patches. The 5x5 layers carry
// most of the work of cnn_3 (its 16->8 layer on 30x30: 76% of the forward FLOPs) and of cnn_4
// (8->16 on 28x28: 52%). Interpolation points 0, 1, -1, 2, -2 and infinity:
//   B^T = [4  0 -5  0 1 0;  0 -4 -4  1 1 0;  0  4 -4 -1 1 0;
//          0 -2 -1  2 1 0;  0  2 -1 -2 1 0;  0  4  0 -5 0 1],
//   G rows = s_p (1, p, p^2, p^3, p^4) for p = 0, 1, -1, 2, -2 with s = 1/4, -1/6, -1/6, 1/24, 1/24,
//            and (0, 0, 0, 0, 1),
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 1].
// (The same B^T serves F(4x4,3x3), conv_winograd_f43.hpp.) Summed over c this is 36 GEMMs
// (O x C) x (C x tiles): 36 multiply-adds per tile and (o, c) instead of the direct 100 (2.78x
// fewer), plus the transforms, which cost relatively more than in F(2x2,3x3): B^T d B is ~26
// operations per 6x6 patch row/column pass, A^T M A ~8 per column. The kernels that run it are
// conv_winograd_core.hpp's.
//
// Float error bound (tests/test_conv_winograd.cpp checks it; the derivation follows the F(2x2,3x3)
// one in conv_winograd_f23.hpp). With u = 2^-24, g_n = n u / (1 - n u) and per output
//   S = sum_c ( |A^T| [ (|G||g_oc||G^T|) .* (|B^T||d_c||B|) ] |A| )_rs :
// U is computed in double and rounded once (< 2u relative); each pass of B^T is two levels of
// FMAs/adds (below), so V = B^T d B carries g_4; the C-term FMA chain g_C; each pass of A^T three
// levels, A^T M A g_6; the bias add u |y + b|. In all at most C+13 rounding factors per term:
//   |y_hat - y| <= g_{C+13} * S + u * |b|.
#include <cmath>

#include "ann/backend/cpu/simd.hpp"

namespace ann::cpu {

struct WinogradF25 {
    static constexpr int kR = 5, kM = 2, kA = 6;
    // Tiles per block: V and M of a block (36 planes each) stay in L2 with room to spare.
    static constexpr int kBlockTiles = 64;
    static constexpr double G[6][5] = {{1.0 / 4, 0, 0, 0, 0},
                                       {-1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6},
                                       {-1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6},
                                       {1.0 / 24, 2.0 / 24, 4.0 / 24, 8.0 / 24, 16.0 / 24},
                                       {1.0 / 24, -2.0 / 24, 4.0 / 24, -8.0 / 24, 16.0 / 24},
                                       {0, 0, 0, 0, 1}};

    // v = B^T d for six values (one pass of the input transform): every output is two levels of
    // rounding.
    template <class T>
    static void bt(const T d[6], T v[6]) {
        const T t0 = std::fma(T(-4), d[2], d[4]), t1 = std::fma(T(-4), d[1], d[3]);  // d4 - 4 d2, d3 - 4 d1
        const T t2 = d[4] - d[2], s31 = d[3] - d[1], t3 = s31 + s31;                 // d4 - d2, 2 (d3 - d1)
        v[0] = std::fma(T(4), d[0], std::fma(T(-5), d[2], d[4]));
        v[1] = t0 + t1;
        v[2] = t0 - t1;
        v[3] = t2 + t3;
        v[4] = t2 - t3;
        v[5] = std::fma(T(4), d[1], std::fma(T(-5), d[3], d[5]));
    }
    // y = A^T m for six values: y0 = m0 + m1 + m2 + m3 + m4, y1 = m1 - m2 + 2 (m3 - m4) + m5;
    // three levels each.
    template <class T>
    static void at(const T m[6], T y[2]) {
        y[0] = (m[0] + (m[1] + m[2])) + (m[3] + m[4]);
        y[1] = std::fma(T(2), m[3] - m[4], m[1] - m[2]) + m[5];
    }
#if ANN_HAVE_AVX512_KERNELS
    // The same operations in the same order on 16 lanes (code inlined into ANN_AVX512_TARGET
    // functions must be compiled for that target too, so the templates above cannot serve).
    ANN_AVX512_TARGET static void bt_zmm(const __m512 d[6], __m512 v[6]) {
        const __m512 m4 = _mm512_set1_ps(-4.f), m5 = _mm512_set1_ps(-5.f), p4 = _mm512_set1_ps(4.f);
        const __m512 t0 = _mm512_fmadd_ps(m4, d[2], d[4]), t1 = _mm512_fmadd_ps(m4, d[1], d[3]);
        const __m512 t2 = _mm512_sub_ps(d[4], d[2]), s31 = _mm512_sub_ps(d[3], d[1]), t3 = _mm512_add_ps(s31, s31);
        v[0] = _mm512_fmadd_ps(p4, d[0], _mm512_fmadd_ps(m5, d[2], d[4]));
        v[1] = _mm512_add_ps(t0, t1);
        v[2] = _mm512_sub_ps(t0, t1);
        v[3] = _mm512_add_ps(t2, t3);
        v[4] = _mm512_sub_ps(t2, t3);
        v[5] = _mm512_fmadd_ps(p4, d[1], _mm512_fmadd_ps(m5, d[3], d[5]));
    }
    ANN_AVX512_TARGET static void at_zmm(const __m512 m[6], __m512 y[2]) {
        y[0] = _mm512_add_ps(_mm512_add_ps(m[0], _mm512_add_ps(m[1], m[2])), _mm512_add_ps(m[3], m[4]));
        y[1] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(2.f), _mm512_sub_ps(m[3], m[4]), _mm512_sub_ps(m[1], m[2])),
                             m[5]);
    }
#endif
};

}  // namespace ann::cpu
