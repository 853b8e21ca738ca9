#pragma once
// Winograd F(2x2,5x5): 5x5 kernels, stride 1, no padding (forward), and backward-data as the
// same forward on dy zero-padded by 4 with the flipped, channel-swapped weights. The 5x5 layers
// carry most of the work of cnn_3 (its 16->8 layer on 30x30: 76% of the forward FLOPs) and of
// cnn_4 (8->16 on 28x28: 52%).
//   x is (C, H, W) per image, w is (O, C, 5, 5), y is (O, OH, OW) = conv(x, w) + bias.
//
// Per 2x2 output tile and channel pair (o, c): Y = A^T [ (G g G^T) .* (B^T d B) ] A, with d the
// 6x6 input patch at (2*th, 2*tw), g = w[o][c], interpolation points 0, 1, -1, 2, -2 and infinity:
//   B^T = [4  0 -5  0 1 0;  0 -4 -4  1 1 0;  0  4 -4 -1 1 0;
//          0 -2 -1  2 1 0;  0  2 -1 -2 1 0;  0  4  0 -5 0 1],
//   G rows = s_p (1, p, p^2, p^3, p^4) for p = 0, 1, -1, 2, -2 with s = 1/4, -1/6, -1/6, 1/24, 1/24,
//            and (0, 0, 0, 0, 1),
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 1].
// (The same B^T serves F(4x4,3x3); checked against the direct sum in tests/test_conv_winograd.cpp.)
// Summed over c this is 36 GEMMs (O x C) x (C x tiles): 36 multiply-adds per tile and (o, c)
// instead of the direct 100 (2.78x fewer), plus the transforms, which cost relatively more than
// in F(2x2,3x3): B^T d B is ~26 operations per 6x6 patch row/column pass, A^T M A ~8 per column.
// Partial tiles read zeros past the input and drop the outputs past OH/OW: output row 0 of a
// tile uses A^T row 0, which never touches M row 5, the only row that sees d row 5; column alike.
//
// Float error bound (tests/test_conv_winograd.cpp checks it; the derivation follows the F(2x2,3x3)
// one in conv_winograd.hpp). With u = 2^-24, g_n = n u / (1 - n u) and per output
//   S = sum_c ( |A^T| [ (|G||g_oc||G^T|) .* (|B^T||d_c||B|) ] |A| )_rs :
// U is computed in double and rounded once (< 2u relative); each pass of B^T is two levels of
// FMAs/adds (below), so V = B^T d B carries g_4; the C-term FMA chain g_C; each pass of A^T three
// levels, A^T M A g_6; the bias add u |y + b|. In all at most C+13 rounding factors per term:
//   |y_hat - y| <= g_{C+13} * S + u * |b|.
//
// The AVX-512 kernel puts 16 tiles of a tile row in a zmm, as conv_winograd.hpp does: d's six
// columns 2*tw + k are the even/odd lanes of loads at offsets 0, 2 and 4, split with vpermt2ps.
#include <cmath>
#include <cstddef>
#include <type_traits>

#include "ann/backend/cpu/conv_winograd_core.hpp"

namespace ann::cpu {

// U[xi][ci][co] = (G g G^T)[xi] for the 6x6 positions xi (winograd_weights_from_g).
template <class T>
void winograd_f25_transform_weights(const T* w, int O, int C, bool backward, T* U) {
    static const double G[6][5] = {{1.0 / 4, 0, 0, 0, 0},
                                   {-1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6},
                                   {-1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6},
                                   {1.0 / 24, 2.0 / 24, 4.0 / 24, 8.0 / 24, 16.0 / 24},
                                   {1.0 / 24, -2.0 / 24, 4.0 / 24, -8.0 / 24, 16.0 / 24},
                                   {0, 0, 0, 0, 1}};
    winograd_weights_from_g(G, w, O, C, backward, U);
}

namespace detail {
// v = B^T d for six values (one pass of the input transform): every output is two levels of
// rounding. f25_bt_zmm below does the same on 16 lanes.
template <class T>
inline void f25_bt(const T d[6], T v[6]) {
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
inline void f25_at(const T m[6], T y[2]) {
    y[0] = (m[0] + (m[1] + m[2])) + (m[3] + m[4]);
    y[1] = std::fma(T(2), m[3] - m[4], m[1] - m[2]) + m[5];
}
}  // namespace detail

// Scalar, one image: x (C, H, W), U from winograd_f25_transform_weights (C inputs, O outputs),
// y (O, H-4, W-4) = conv + bias (bias may be null). tmp holds 36*C values. The same operations in
// the same order as the vector kernel (the channel sum as an FMA chain).
template <class T>
void conv2d_winograd_f25_image_scalar(const T* x, int C, int H, int W, const T* U, int O, const T* bias, T* y,
                                      T* tmp) {
    const int OH = H - 4, OW = W - 4, TH = (OH + 1) / 2, TW = (OW + 1) / 2;
    for (int th = 0; th < TH; ++th)
        for (int tw = 0; tw < TW; ++tw) {
            for (int c = 0; c < C; ++c) {
                T e[6][6];  // (d B) per input row a
                for (int a = 0; a < 6; ++a) {
                    T d[6];
                    for (int b = 0; b < 6; ++b) {
                        const int h = 2 * th + a, v = 2 * tw + b;
                        d[b] = h < H && v < W ? x[(std::size_t(c) * H + h) * W + v] : T(0);
                    }
                    detail::f25_bt(d, e[a]);
                }
                T* v = tmp + std::size_t(c) * 36;
                for (int b = 0; b < 6; ++b) {  // B^T down each column
                    const T col[6] = {e[0][b], e[1][b], e[2][b], e[3][b], e[4][b], e[5][b]};
                    T out[6];
                    detail::f25_bt(col, out);
                    for (int a = 0; a < 6; ++a) v[6 * a + b] = out[a];
                }
            }
            for (int o = 0; o < O; ++o) {
                T m[6][6];
                for (int xi = 0; xi < 36; ++xi) {
                    T acc = T(0);
                    for (int c = 0; c < C; ++c)
                        acc = std::fma(U[(std::size_t(xi) * C + c) * O + o], tmp[std::size_t(c) * 36 + xi], acc);
                    m[xi / 6][xi % 6] = acc;
                }
                T r[2][6];  // A^T M down the columns, then A along each row
                for (int b = 0; b < 6; ++b) {
                    const T col[6] = {m[0][b], m[1][b], m[2][b], m[3][b], m[4][b], m[5][b]};
                    T out[2];
                    detail::f25_at(col, out);
                    r[0][b] = out[0];
                    r[1][b] = out[1];
                }
                const T bo = bias ? bias[o] : T(0);
                for (int i = 0; i < 2; ++i) {
                    const int oh = 2 * th + i;
                    if (oh >= OH) break;
                    T yv[2];
                    detail::f25_at(r[i], yv);
                    for (int j = 0; j < 2; ++j) {
                        const int ow = 2 * tw + j;
                        if (ow < OW) y[(std::size_t(o) * OH + oh) * OW + ow] = bias ? yv[j] + bo : yv[j];
                    }
                }
            }
        }
}

#if ANN_HAVE_AVX512_KERNELS
namespace detail {

// f25_bt and f25_at on 16 lanes, the same operations in the same order (the shared templates
// above cannot be used here: code inlined into these target("avx512f") functions must be
// compiled for that target too).
__attribute__((target("avx512f,fma"))) inline void f25_bt_zmm(const __m512 d[6], __m512 v[6]) {
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
__attribute__((target("avx512f,fma"))) inline void f25_at_zmm(const __m512 m[6], __m512 y[2]) {
    y[0] = _mm512_add_ps(_mm512_add_ps(m[0], _mm512_add_ps(m[1], m[2])), _mm512_add_ps(m[3], m[4]));
    y[1] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(2.f), _mm512_sub_ps(m[3], m[4]), _mm512_sub_ps(m[1], m[2])), m[5]);
}

// (d B) of input row h of channel image xc for 16 tiles from tile column tw0; rows past the
// image are zero.
__attribute__((target("avx512f,fma"))) inline void f25_row_h(const float* xc, int H, int W, int h, int tw0,
                                                             __m512 out[6]) {
    if (h >= H) {
ANN_GCC_UNROLL(6)
        for (int k = 0; k < 6; ++k) out[k] = _mm512_setzero_ps();
        return;
    }
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const float* p = xc + std::size_t(h) * W + 2 * tw0;
    const int n = W - 2 * tw0;  // columns that exist from p on
    __m512 d[6];
ANN_GCC_UNROLL(3)
    for (int s = 0; s < 3; ++s) {  // columns 2s and 2s+1 of each tile
        const __m512 lo = _mm512_maskz_loadu_ps(first_lanes(n - 2 * s), p + 2 * s);
        const __m512 hi = _mm512_maskz_loadu_ps(first_lanes(n - 2 * s - 16), p + 2 * s + 16);
        d[2 * s] = _mm512_permutex2var_ps(lo, even, hi);
        d[2 * s + 1] = _mm512_permutex2var_ps(lo, odd, hi);
    }
    f25_bt_zmm(d, out);
}

struct WinogradF25 {
    static constexpr int kR = 5, kAlpha2 = 36;
    // Tiles per block: V and M of a block (36 planes each) stay in L2 with room to spare.
    static constexpr int kBlockTiles = 64;

    // V[6a+b][c][t] for the tile rows [th0, th1) of channel c: t = (th - th0) * TW + tw. The six
    // (d B) rows of a tile are kept in a ring: the next tile row reuses four of them.
    __attribute__((target("avx512f,fma"))) static void input_transform(const float* xc, int H, int W, int TW, int th0,
                                                                       int th1, float* V, std::size_t plane) {
        for (int tw0 = 0; tw0 < TW; tw0 += 16) {
            const __mmask16 keep = first_lanes(TW - tw0);
            __m512 ring[6][6];
            for (int a = 0; a < 4; ++a) f25_row_h(xc, H, W, 2 * th0 + a, tw0, ring[a]);
            for (int th = th0; th < th1; ++th) {
                const int r0 = 2 * (th - th0);  // ring slot of the tile's input row 0 is r0 % 6
                f25_row_h(xc, H, W, 2 * th + 4, tw0, ring[(r0 + 4) % 6]);
                f25_row_h(xc, H, W, 2 * th + 5, tw0, ring[(r0 + 5) % 6]);
                float* dst = V + (th - th0) * TW + tw0;
                for (int b = 0; b < 6; ++b) {
                    __m512 col[6], out[6];
ANN_GCC_UNROLL(6)
                    for (int a = 0; a < 6; ++a) col[a] = ring[(r0 + a) % 6][b];
                    f25_bt_zmm(col, out);
ANN_GCC_UNROLL(6)
                    for (int a = 0; a < 6; ++a) _mm512_mask_storeu_ps(dst + (6 * a + b) * plane, keep, out[a]);
                }
            }
        }
    }

    // Output channel o for tile rows [th0, th1), plus bias, into yo (OH, OW).
    __attribute__((target("avx512f,fma"))) static void output_transform(const float* Mo, std::size_t plane, int OH,
                                                                        int OW, int TW, int th0, int th1, float bias,
                                                                        bool has_bias, float* yo) {
        for (int th = th0; th < th1; ++th)
            for (int tw0 = 0; tw0 < TW; tw0 += 16) {
                const __mmask16 keep = first_lanes(TW - tw0);
                const float* src = Mo + (th - th0) * TW + tw0;
                __m512 r[2][6];  // A^T M: output row i, column b of the tile
ANN_GCC_UNROLL(6)
                for (int b = 0; b < 6; ++b) {
                    __m512 col[6], out[2];
ANN_GCC_UNROLL(6)
                    for (int a = 0; a < 6; ++a) col[a] = _mm512_maskz_loadu_ps(keep, src + (6 * a + b) * plane);
                    f25_at_zmm(col, out);
                    r[0][b] = out[0];
                    r[1][b] = out[1];
                }
                for (int i = 0; i < 2; ++i) {
                    const int oh = 2 * th + i;
                    if (oh >= OH) break;
                    __m512 y[2];
                    f25_at_zmm(r[i], y);
                    wino_store_tile_row(y[0], y[1], has_bias, bias, yo + std::size_t(oh) * OW + 2 * tw0, OW - 2 * tw0);
                }
            }
    }
};

}  // namespace detail
#endif

}  // namespace ann::cpu
