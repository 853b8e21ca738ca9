#pragma once
// Winograd F(2x2,3x3) convolution: 3x3 kernels, stride 1, no padding (forward), and
// backward-data as the same forward on dy zero-padded by 2 with the flipped, channel-swapped
// weights (the full correlation, as in conv2d.hpp's direct backward-data).
//   x is (C, H, W) per image, w is (O, C, 3, 3), y is (O, OH, OW) = conv(x, w) + bias.
//
// Per 2x2 output tile and channel pair (o, c): Y = A^T [ (G g G^T) .* (B^T d B) ] A, with d the
// 4x4 input patch at (2*th, 2*tw), g = w[o][c], and
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1].
// Summed over c, the elementwise stage is 16 small GEMMs, M[xi] (O x T) = U[xi] (O x C) V[xi]
// (C x T), xi = 4a+b the position in the 4x4 tile, T the tiles: 16 multiply-adds per tile and
// (o, c) instead of the direct 36 (2.25x fewer), plus the input transform (per (c, tile)) and
// the output transform (per (o, tile)), which cost relatively more when C or O is small.
// Partial tiles (odd OH or OW) read zeros past the input and drop the outputs past OH/OW: a
// tile's output row 0 depends on input rows 0..2 only (A^T row 0 never touches M row 3, the only
// row that sees d row 3), also in floating point, so the kept outputs are unaffected.
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
//
// Implementations: a portable scalar template (float and double; the transform math is tested in
// double, and it is the fallback without AVX-512) and an AVX-512 float kernel for ONE image per
// call (parallel_items over images: each image on one thread, so results do not depend on the
// thread count). AVX-512 layout: 16 tiles per zmm along a tile row (tile columns tw0..tw0+15),
// stored compactly (tile t = row * TW + tw) so narrow images waste no GEMM lanes; the input
// transform deinterleaves even/odd columns with vpermt2ps; the GEMM register block is 8 output
// channels x 32 tiles; the output transform re-interleaves two tile columns into 32 outputs.
// The image is processed in blocks of tile rows (about 64 tiles) so V and M stay near L1.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ann/backend/cpu/conv_direct_avx512.hpp"
#include "ann/backend/cpu/conv_im2col.hpp"
#include "ann/backend/cpu/conv_winograd_core.hpp"
#include "ann/backend/cpu/conv_winograd_f25.hpp"

namespace ann::cpu {

// Whether a Winograd kernel can compute this convolution at all: 3x3 (F(2x2,3x3)) or 5x5
// (F(2x2,5x5), conv_winograd_f25.hpp), stride 1, no padding.
inline bool conv_is_winograd_shape(const ConvGeometry& g) {
    return (g.kh == 3 || g.kh == 5) && g.kw == g.kh && g.stride == 1 && g.pad == 0 && g.H >= g.kh && g.W >= g.kw;
}

// Chosen by measurement: bench_conv -O3 -march=native, 2 threads, GFLOP/s counted as
// direct-convolution FLOPs, dispatch before this kernel (direct AVX-512; backward-data: direct
// or im2col + col2im) -> Winograd, best of 6 randomly interleaved repetitions on a 2-core
// AVX-512 AMD EPYC (KVM) that another build was loading (single runs varied by +-20%):
//   C->O @H      fwd N=50     fwd N=100    bwd_data N=50   bwd_data N=100
//   3->16 @32    54 -> 64     53 -> 63     34 -> 51        33 -> 43
//   16->8 @30    78 -> 98     66 -> 75     60 -> 94        59 -> 61
//   3->8  @32    44 -> 52     51 -> 60     22 -> 42        23 -> 46
//   8->16 @30    73 -> 99     71 -> 81     61 -> 83        60 -> 82
//   16->8 @28    82 -> 80     70 -> 75     60 -> 85        56 -> 73
//   8->16 @26    75 -> 107    71 -> 86     58 -> 70        57 -> 66
//   16->16 @12   54 -> 66     65 -> 74     38 -> 51        41 -> 56
//   16->8 @10    33 -> 35     44 -> 46     25 -> 27        31 -> 34   (not picked)
// One thread, one image, quiet (-O2 -march=x86-64-v2, the release preset): Winograd 1.3-1.75x
// the direct kernel for the layers with H >= 12. The 10x10 layer is a tie here and lost (0.7-0.85x)
// in longer runs: a tile row of TW = OW/2 tiles fills only TW of a transform vector's 16 lanes,
// so narrow images pay the transforms 16/TW times over. Picked: images at least 12 wide.
//
// F(2x2,5x5) (conv_winograd_f25.hpp), measured as CPU time of one thread (robust to the other
// jobs that were loading the machine), bench_conv, batch 50, best of 5, ms, direct -> Winograd:
//   C->O @H      fwd            bwd_data
//   16->8 @30    2.38 -> 1.88   3.23 -> 2.04    (cnn_3's second conv)
//   8->16 @28    2.00 -> 1.23   2.77 -> 2.03    (cnn_4's third)
//   16->16 @12   slower: 194 -> 136 GFLOP/s forward, 83 -> 34 backward-data (2 threads), since
//                the 8x8 output is 4 tiles wide: a quarter of each transform vector's lanes.
// Picked for 5x5: images at least 20 wide (no homework layer lies between 12 and 28).
inline int winograd_min_width(int k) { return k == 3 ? 12 : 20; }

template <class T>
bool conv_forward_uses_winograd(const ConvGeometry& g, int O) {
    (void)O;
    return std::is_same_v<T, float> && conv_is_winograd_shape(g) && have_avx512() && g.W >= winograd_min_width(g.kh);
}

template <class T>
bool conv_backward_data_uses_winograd(const ConvGeometry& g, int O) {
    (void)O;
    return std::is_same_v<T, float> && conv_is_winograd_shape(g) && have_avx512() && g.W >= winograd_min_width(g.kh);
}

// U[xi][ci][co] = (G g G^T)[xi] for the 4x4 positions xi (winograd_weights_from_g). G's entries
// are 0, +-1/2 and 1: every product is exact, the sums are in double, and U is rounded once to T.
template <class T>
void winograd_transform_weights(const T* w, int O, int C, bool backward, T* U) {
    static const double G[4][3] = {{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}};
    winograd_weights_from_g(G, w, O, C, backward, U);
}

// Scalar, one image: x (C, H, W), U from winograd_transform_weights (C inputs, O outputs),
// y (O, H-2, W-2) = conv + bias (bias may be null). tmp holds 16*C values.
template <class T>
void conv2d_winograd_image_scalar(const T* x, int C, int H, int W, const T* U, int O, const T* bias, T* y, T* tmp) {
    const int OH = H - 2, OW = W - 2, TH = (OH + 1) / 2, TW = (OW + 1) / 2;
    for (int th = 0; th < TH; ++th)
        for (int tw = 0; tw < TW; ++tw) {
            for (int c = 0; c < C; ++c) {
                T d[4][4], e[4][4];
                for (int a = 0; a < 4; ++a)
                    for (int b = 0; b < 4; ++b) {
                        const int h = 2 * th + a, v = 2 * tw + b;
                        d[a][b] = h < H && v < W ? x[(std::size_t(c) * H + h) * W + v] : T(0);
                    }
                for (int a = 0; a < 4; ++a) {  // d B (along a row), then B^T (down the columns)
                    e[a][0] = d[a][0] - d[a][2];
                    e[a][1] = d[a][1] + d[a][2];
                    e[a][2] = d[a][2] - d[a][1];
                    e[a][3] = d[a][1] - d[a][3];
                }
                T* v = tmp + std::size_t(c) * 16;
                for (int b = 0; b < 4; ++b) {
                    v[0 + b] = e[0][b] - e[2][b];
                    v[4 + b] = e[1][b] + e[2][b];
                    v[8 + b] = e[2][b] - e[1][b];
                    v[12 + b] = e[1][b] - e[3][b];
                }
            }
            for (int o = 0; o < O; ++o) {
                T m[4][4];
                for (int xi = 0; xi < 16; ++xi) {
                    T acc = T(0);
                    for (int c = 0; c < C; ++c) acc += U[(std::size_t(xi) * C + c) * O + o] * tmp[std::size_t(c) * 16 + xi];
                    m[xi / 4][xi % 4] = acc;
                }
                T r[2][4];  // A^T M (down the columns), then A (along a row)
                for (int b = 0; b < 4; ++b) {
                    r[0][b] = m[0][b] + m[1][b] + m[2][b];
                    r[1][b] = m[1][b] - m[2][b] - m[3][b];
                }
                const T bo = bias ? bias[o] : T(0);
                for (int i = 0; i < 2; ++i) {
                    const int oh = 2 * th + i;
                    if (oh >= OH) break;
                    const T yv[2] = {r[i][0] + r[i][1] + r[i][2], r[i][1] - r[i][2] - r[i][3]};
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

// Horizontal input transform (d B) of one input row for 16 tiles: p points at column 2*tw0,
// n = the columns that exist from p on. h[k][lane] = (d B)[k] of tile tw0 + lane.
__attribute__((target("avx512f,fma"))) inline void wino_row_h(const float* p, int n, __m512 h[4]) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512 lo = _mm512_maskz_loadu_ps(first_lanes(n), p);
    const __m512 hi = _mm512_maskz_loadu_ps(first_lanes(n - 16), p + 16);
    const __m512 lo2 = _mm512_maskz_loadu_ps(first_lanes(n - 2), p + 2);
    const __m512 hi2 = _mm512_maskz_loadu_ps(first_lanes(n - 18), p + 18);
    const __m512 e0 = _mm512_permutex2var_ps(lo, even, hi), o0 = _mm512_permutex2var_ps(lo, odd, hi);
    const __m512 e2 = _mm512_permutex2var_ps(lo2, even, hi2), o2 = _mm512_permutex2var_ps(lo2, odd, hi2);
    h[0] = _mm512_sub_ps(e0, e2);  // d0 - d2
    h[1] = _mm512_add_ps(o0, e2);  // d1 + d2
    h[2] = _mm512_sub_ps(e2, o0);  // d2 - d1
    h[3] = _mm512_sub_ps(o0, o2);  // d1 - d3
}

// The same for row h of channel image xc (H, W) at column col; rows past the image are zero.
__attribute__((target("avx512f,fma"))) inline void wino_row_h(const float* xc, int H, int W, int h, int col, int n,
                                                              __m512 h4[4]) {
    if (h < H) {
        wino_row_h(xc + std::size_t(h) * W + col, n, h4);
    } else {
ANN_GCC_UNROLL(4)
        for (int k = 0; k < 4; ++k) h4[k] = _mm512_setzero_ps();
    }
}

// V[xi][c][t] for the tile rows [th0, th1) of channel c: t = (th - th0) * TW + tw.
__attribute__((target("avx512f,fma"))) inline void wino_input_transform(const float* xc, int H, int W, int TW, int th0,
                                                                        int th1, float* V, std::size_t plane) {
    for (int tw0 = 0; tw0 < TW; tw0 += 16) {
        const __mmask16 keep = first_lanes(TW - tw0);
        const int n = W - 2 * tw0;
        __m512 r[4][4];  // (d B) of the tile's 4 input rows
        wino_row_h(xc, H, W, 2 * th0, 2 * tw0, n, r[0]);
        wino_row_h(xc, H, W, 2 * th0 + 1, 2 * tw0, n, r[1]);
        for (int th = th0; th < th1; ++th) {
            wino_row_h(xc, H, W, 2 * th + 2, 2 * tw0, n, r[2]);
            wino_row_h(xc, H, W, 2 * th + 3, 2 * tw0, n, r[3]);
            float* dst = V + (th - th0) * TW + tw0;
ANN_GCC_UNROLL(4)
            for (int b = 0; b < 4; ++b) {
                _mm512_mask_storeu_ps(dst + (0 + b) * plane, keep, _mm512_sub_ps(r[0][b], r[2][b]));
                _mm512_mask_storeu_ps(dst + (4 + b) * plane, keep, _mm512_add_ps(r[1][b], r[2][b]));
                _mm512_mask_storeu_ps(dst + (8 + b) * plane, keep, _mm512_sub_ps(r[2][b], r[1][b]));
                _mm512_mask_storeu_ps(dst + (12 + b) * plane, keep, _mm512_sub_ps(r[1][b], r[3][b]));
            }
ANN_GCC_UNROLL(4)
            for (int k = 0; k < 4; ++k) {  // the next tile row's rows 0, 1 are this one's 2, 3
                r[0][k] = r[2][k];
                r[1][k] = r[3][k];
            }
        }
    }
}

// Output transform of channel o for tile rows [th0, th1), plus bias, into y (OH, OW).
__attribute__((target("avx512f,fma"))) inline void wino_output_transform(const float* Mo, std::size_t plane, int OH, int OW,
                                                                         int TW, int th0, int th1, float bias, bool has_bias,
                                                                         float* yo) {
    for (int th = th0; th < th1; ++th)
        for (int tw0 = 0; tw0 < TW; tw0 += 16) {
            const __mmask16 keep = first_lanes(TW - tw0);
            const float* src = Mo + (th - th0) * TW + tw0;
            __m512 r0[4], r1[4];
ANN_GCC_UNROLL(4)
            for (int b = 0; b < 4; ++b) {
                const __m512 m0 = _mm512_maskz_loadu_ps(keep, src + (0 + b) * plane);
                const __m512 m1 = _mm512_maskz_loadu_ps(keep, src + (4 + b) * plane);
                const __m512 m2 = _mm512_maskz_loadu_ps(keep, src + (8 + b) * plane);
                const __m512 m3 = _mm512_maskz_loadu_ps(keep, src + (12 + b) * plane);
                r0[b] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
                r1[b] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
            }
            for (int i = 0; i < 2; ++i) {
                const int oh = 2 * th + i;
                if (oh >= OH) break;
                const __m512* r = i == 0 ? r0 : r1;
                const __m512 y0 = _mm512_add_ps(_mm512_add_ps(r[0], r[1]), r[2]);
                const __m512 y1 = _mm512_sub_ps(_mm512_sub_ps(r[1], r[2]), r[3]);
                wino_store_tile_row(y0, y1, has_bias, bias, yo + std::size_t(oh) * OW + 2 * tw0, OW - 2 * tw0);
            }
        }
}

struct WinogradF23 {
    static constexpr int kR = 3, kAlpha2 = 16;
    static constexpr int kBlockTiles = 64;  // tiles per block: V and M near L1
    static void input_transform(const float* xc, int H, int W, int TW, int th0, int th1, float* V, std::size_t plane) {
        wino_input_transform(xc, H, W, TW, th0, th1, V, plane);
    }
    static void output_transform(const float* Mo, std::size_t plane, int OH, int OW, int TW, int th0, int th1,
                                 float bias, bool has_bias, float* yo) {
        wino_output_transform(Mo, plane, OH, OW, TW, th0, th1, bias, has_bias, yo);
    }
};

}  // namespace detail
#endif

// The kernel-size-specific pieces behind one set of drivers (k = 3: F(2x2,3x3), k = 5: F(2x2,5x5)).
inline int winograd_alpha2(int k) { return k == 3 ? 16 : 36; }

template <class T>
void winograd_weights(int k, const T* w, int O, int C, bool backward, T* U) {
    if (k == 3)
        winograd_transform_weights(w, O, C, backward, U);
    else
        winograd_f25_transform_weights(w, O, C, backward, U);
}

// One image (x (C, H, W) -> y (O, H-k+1, W-k+1)) through the AVX-512 kernel (float, when
// `vectorised` and the CPU has it) or the scalar one; tmp = thread t's scratch from ws.
template <class T>
void conv2d_winograd_image(int k, const T* x, int C, int H, int W, const T* U, int O, const T* bias, T* y,
                           ConvWorkspace<T>& ws, int t, bool vectorised) {
#if ANN_HAVE_AVX512_KERNELS
    if constexpr (std::is_same_v<T, float>) {
        if (vectorised && have_avx512()) {
            if (k == 3)
                winograd_image_avx512<detail::WinogradF23>(
                    x, C, H, W, U, O, bias, y, ws.tmp_buffer(t, winograd_tmp_floats<detail::WinogradF23>(C, O, H - 2, W - 2)));
            else
                winograd_image_avx512<detail::WinogradF25>(
                    x, C, H, W, U, O, bias, y, ws.tmp_buffer(t, winograd_tmp_floats<detail::WinogradF25>(C, O, H - 4, W - 4)));
            return;
        }
    }
#endif
    (void)vectorised;
    T* tmp = ws.tmp_buffer(t, std::size_t(winograd_alpha2(k)) * C);
    if (k == 3)
        conv2d_winograd_image_scalar(x, C, H, W, U, O, bias, y, tmp);
    else
        conv2d_winograd_f25_image_scalar(x, C, H, W, U, O, bias, y, tmp);
}

// The forward over a batch (g must satisfy conv_is_winograd_shape): image n into out(t, n), then
// done(t, n, yn) on the same thread (as conv2d.hpp's conv2d_forward_images).
template <class T, class Out, class Done>
void conv2d_winograd_forward_images(const T* x, const T* w, const T* b, int N, int O, const ConvGeometry& g,
                                    ConvWorkspace<T>& ws, Out&& out, Done&& done, bool vectorised = true) {
    const int k = g.kh;
    const std::size_t xs = std::size_t(g.C) * g.H * g.W;
    ws.wt.resize(std::size_t(winograd_alpha2(k)) * g.C * O);
    winograd_weights(k, w, O, g.C, false, ws.wt.data());
    ws.prepare(ThreadPool::global().size());
    parallel_items(N, [&](int t, std::size_t n) {
        T* yn = out(t, n);
        conv2d_winograd_image(k, x + n * xs, g.C, g.H, g.W, ws.wt.data(), O, b, yn, ws, t, vectorised);
        done(t, n, yn);
    });
}

// y = conv(x, w) + b over a batch, overwritten.
template <class T>
void conv2d_winograd_forward(const T* x, const T* w, const T* b, T* y, int N, int O, const ConvGeometry& g,
                             ConvWorkspace<T>& ws, bool vectorised = true) {
    const std::size_t ys = std::size_t(O) * g.cols();
    conv2d_winograd_forward_images(
        x, w, b, N, O, g, ws, [&](int, std::size_t n) { return y + n * ys; }, [](int, std::size_t, T*) {},
        vectorised);
}

// dx = dL/dx over a batch (g must satisfy conv_is_winograd_shape), overwritten: per image, the
// forward on dy zero-padded by k-1 with the flipped, channel-swapped weights (the full correlation).
template <class T>
void conv2d_winograd_backward_data(const T* dy, const T* w, T* dx, int N, int O, const ConvGeometry& g,
                                   ConvWorkspace<T>& ws, bool vectorised = true) {
    const int k = g.kh, OH = g.OH(), OW = g.OW(), Hp = OH + 2 * (k - 1), Wp = OW + 2 * (k - 1);
    const std::size_t xs = std::size_t(g.C) * g.H * g.W, ys = std::size_t(O) * OH * OW;
    ws.wt.resize(std::size_t(winograd_alpha2(k)) * g.C * O);
    winograd_weights(k, w, O, g.C, true, ws.wt.data());
    ws.prepare(ThreadPool::global().size());
    parallel_items(N, [&](int t, std::size_t n) {
        T* pad = ws.pad_buffer(t, std::size_t(O) * Hp * Wp);
        pad_for_full_correlation(dy + n * ys, O, OH, OW, k, k, pad);
        conv2d_winograd_image(k, pad, O, Hp, Wp, ws.wt.data(), g.C, static_cast<const T*>(nullptr), dx + n * xs, ws, t,
                              vectorised);
    });
}

}  // namespace ann::cpu
