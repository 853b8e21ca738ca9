#pragma once
// Winograd F(2x2,3x3): 3x3 kernels, 2x2 output tiles from 4x4 input patches (interpolation points
// 0, 1, -1 and infinity):
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1].
// 16 multiply-adds per tile and (o, c) instead of the direct 36 (2.25x fewer), plus the input
// transform (per (c, tile)) and the output transform (per (o, tile)), which cost relatively more
// when C or O is small. The kernels that run it are conv_winograd_core.hpp's.
//
// Float error bound (tested in tests/test_conv_winograd.cpp). Let u = 2^-24, g_n = n*u/(1-n*u),
// and per output (o, oh, ow), at position (r, s) = (oh%2, ow%2) of its tile:
//   S = sum_c ( |A^T| [ (|G||g_oc||G^T|) .* (|B^T||d_c||B|) ] |A| )_rs    (>= sum_taps |w||x|).
// The stages round: U in double, rounded once to float (<= u + 2^-51 < 2u relative); V = B^T(dB)
// two +/- levels (g_2); the C-term FMA chain (g_C); A^T M A two levels of <= 3 terms (g_4); the
// bias add (u |y+b|); at most C+9 rounding factors per term, so (Higham, ch. 3)
//   |y_hat - y| <= g_{C+9} * S + u * |b|,
// where C is the conv's input channel count (O for backward-data, on the padded dy). Since
// |G| rows sum to <= 1.5 and |B^T|, |A^T| rows to <= 2 and 3, S <= 64 * sum_c max|g_oc| max|d_c|,
// against <= 9 * that for the direct sum. In the tests (uniform data) S <= ~13 sum_taps |w||x|,
// so the bound is <= 1.3e-5 relative to sum_taps |w||x| (C = 16) and the observed error is
// 1-17% of it. Near zero padding (the border of dx) the error follows the whole tile, not the
// few real taps of that output.
#include "ann/backend/cpu/simd.hpp"

namespace ann::cpu {

struct WinogradF23 {
    static constexpr int kR = 3, kM = 2, kA = 4;
    static constexpr int kBlockTiles = 64;  // tiles per block: V and M near L1
    // G's entries are 0, +-1/2 and 1: every product in the weight transform is exact.
    static constexpr double G[4][3] = {{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}};

    // v = B^T d (one pass of the input transform), one level of rounding.
    template <class T>
    static void bt(const T d[4], T v[4]) {
        v[0] = d[0] - d[2];
        v[1] = d[1] + d[2];
        v[2] = d[2] - d[1];
        v[3] = d[1] - d[3];
    }
    // y = A^T m: y0 = m0 + m1 + m2, y1 = m1 - m2 - m3; two levels.
    template <class T>
    static void at(const T m[4], T y[2]) {
        y[0] = (m[0] + m[1]) + m[2];
        y[1] = (m[1] - m[2]) - m[3];
    }
#if ANN_HAVE_AVX512_KERNELS
    // The same on 16 lanes (code inlined into ANN_AVX512_TARGET functions must be compiled for
    // that target too, so the templates above cannot serve).
    ANN_AVX512_TARGET static void bt_zmm(const __m512 d[4], __m512 v[4]) {
        v[0] = _mm512_sub_ps(d[0], d[2]);
        v[1] = _mm512_add_ps(d[1], d[2]);
        v[2] = _mm512_sub_ps(d[2], d[1]);
        v[3] = _mm512_sub_ps(d[1], d[3]);
    }
    ANN_AVX512_TARGET static void at_zmm(const __m512 m[4], __m512 y[2]) {
        y[0] = _mm512_add_ps(_mm512_add_ps(m[0], m[1]), m[2]);
        y[1] = _mm512_sub_ps(_mm512_sub_ps(m[1], m[2]), m[3]);
    }
#endif
};

}  // namespace ann::cpu
