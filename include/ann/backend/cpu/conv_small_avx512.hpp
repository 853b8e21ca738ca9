#pragma once
// Direct stride-1, unpadded convolution of ONE image for SMALL maps, with AVX-512 vectors across
// 16 output channels instead of across positions.
//   x is (C, H, W), wv is the weight repacked as (ceil(O/16), C*kh*kw, 16) (lanes past O are 0),
//   y is (O, OH, OW) = conv(x) + bias (bias may be null).
//
// Why another kernel: conv_direct_avx512.hpp vectorises along full-width rows, which wastes the
// kw-1 junk columns of every row and leaves lanes idle past the end of a short image: on 7x7 to
// 12x12 outputs (cnn_3's third conv, cnn_4's fourth, cnn_5's fifth) it ran at 45-60% of the FMA
// peak forward and 25-45% for backward-data, where oneDNN's channel-blocked kernels reach 90%.
// Here a register block is NR output rows x NB output columns, one zmm of 16 output channels per
// position (up to 24 accumulators); each kernel tap (c, i, j) is one vector load of 16 weights and
// NR*NB FMAs whose other operand is one input value broadcast straight from memory
// (x[c, oh+i, ow+j] at a fixed offset from the block's corner), so there is no junk column and
// no lane waste when O is a multiple of 16. The block is transposed into y's (O, OH, OW) planes on
// the way out (one store per output against C*kh*kw FMAs).
// Backward-data uses the same kernel the way conv2d.hpp's direct path does: dy zero-padded by k-1,
// weights flipped with the channels swapped, so its "output channels" are the layer's inputs.
// Each image is computed by one thread alone, in a fixed order: the same bits for any thread count.
#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>
#include <vector>

#include "ann/backend/cpu/conv_direct_avx512.hpp"
#include "ann/backend/cpu/conv_im2col.hpp"         // ConvWorkspace, pad_for_full_correlation
#include "ann/backend/cpu/thread_pool.hpp"
#include "ann/backend/cpu/simd.hpp"

namespace ann::cpu {

// Register block limits: at most kSmallMaxAcc accumulators (of 32 zmm, the rest hold the weight
// vector and spare), at most kSmallMaxCols columns per block.
inline constexpr int kSmallMaxAcc = 24, kSmallMaxCols = 12, kSmallMaxRows = 3;

// wv (ceil(O/16) blocks, R = C*kh*kw rows, 16 lanes) from w (O, R): lanes past O are zero.
template <class T>
void small_conv_pack_weights(const T* w, int O, std::size_t R, T* wv) {
    const int blocks = (O + 15) / 16;
    for (int ob = 0; ob < blocks; ++ob)
        for (std::size_t r = 0; r < R; ++r)
            for (int l = 0; l < 16; ++l) {
                const int o = ob * 16 + l;
                wv[(std::size_t(ob) * R + r) * 16 + l] = o < O ? w[std::size_t(o) * R + r] : T(0);
            }
}

#if ANN_HAVE_AVX512_KERNELS
namespace detail {

// One block: NR rows x NB columns of outputs at (oh0, ow0), 16 output channels (block ob).
// tap[r] is the input offset of tap r = (c, i, j): c*H*W + i*W + j. out gets (NR*NB, 16).
template <int NR, int NB>
ANN_AVX512_TARGET inline void small_block(const float* x0, int W, const int* tap, int R,
                                          const float* wv, const float* bias16, float* out) {
    const __m512 b = _mm512_loadu_ps(bias16);
    __m512 acc[NR][NB];
    ANN_GCC_UNROLL(3)
    for (int rr = 0; rr < NR; ++rr) {
        ANN_GCC_UNROLL(12)
        for (int q = 0; q < NB; ++q) acc[rr][q] = b;
    }
    for (int r = 0; r < R; ++r) {
        const __m512 wr = _mm512_loadu_ps(wv + std::size_t(r) * 16);
        const float* xr = x0 + tap[r];
        ANN_GCC_UNROLL(3)
        for (int rr = 0; rr < NR; ++rr) {
            const float* xrow = xr + rr * W;
            ANN_GCC_UNROLL(12)
            for (int q = 0; q < NB; ++q) acc[rr][q] = _mm512_fmadd_ps(wr, _mm512_set1_ps(xrow[q]), acc[rr][q]);
        }
    }
    ANN_GCC_UNROLL(3)
    for (int rr = 0; rr < NR; ++rr) {
        ANN_GCC_UNROLL(12)
        for (int q = 0; q < NB; ++q) _mm512_storeu_ps(out + (rr * NB + q) * 16, acc[rr][q]);
    }
}

using SmallBlockFn = void (*)(const float*, int, const int*, int, const float*, const float*, float*);

template <std::size_t... I>
constexpr auto small_block_table(std::index_sequence<I...>) {
    // entry (NR-1)*kSmallMaxCols + (NB-1)
    return std::array<SmallBlockFn, sizeof...(I)>{&small_block<int(I) / kSmallMaxCols + 1, int(I) % kSmallMaxCols + 1>...};
}

inline SmallBlockFn small_block_fn(int nr, int nb) {
    static constexpr auto table = small_block_table(std::make_index_sequence<kSmallMaxRows * kSmallMaxCols>{});
    return table[std::size_t((nr - 1) * kSmallMaxCols + (nb - 1))];
}

}  // namespace detail

// The input offset of every tap (c, i, j) of an image of C x H x W: c*H*W + i*W + j (computed once
// per call, shared by the threads).
inline std::vector<int> small_conv_taps(int C, int H, int W, int kh, int kw) {
    std::vector<int> tap;
    tap.reserve(std::size_t(C) * kh * kw);
    for (int c = 0; c < C; ++c)
        for (int i = 0; i < kh; ++i)
            for (int j = 0; j < kw; ++j) tap.push_back((c * H + i) * W + j);
    return tap;
}

// One image; tap from small_conv_taps, out = kSmallConvOutFloats of thread scratch (one block).
inline constexpr std::size_t kSmallConvOutFloats = std::size_t(kSmallMaxAcc) * 16;

ANN_AVX512_TARGET inline void conv2d_small_image_avx512(const float* x, int C, int H, int W,
                                                        int kh, int kw, const int* tap,
                                                        const float* wv, int O,
                                                        const float* bias, float* y,
                                                        float* out) {
    const int OH = H - kh + 1, OW = W - kw + 1, R = C * kh * kw;
    const std::size_t OHW = std::size_t(OH) * OW;
    // Columns in blocks of at most 12, balanced; rows as many as fit in the accumulators.
    const int col_blocks = (OW + kSmallMaxCols - 1) / kSmallMaxCols;
    const int nb_full = (OW + col_blocks - 1) / col_blocks;
    const int nr_max = std::max(1, std::min(kSmallMaxRows, kSmallMaxAcc / nb_full));
    for (int ob = 0; ob * 16 < O; ++ob) {
        const int lanes = std::min(16, O - ob * 16);
        alignas(64) float bv[16] = {};
        if (bias)
            for (int l = 0; l < lanes; ++l) bv[l] = bias[ob * 16 + l];
        const float* wvb = wv + std::size_t(ob) * R * 16;
        for (int oh0 = 0; oh0 < OH; oh0 += nr_max) {
            const int nr = std::min(nr_max, OH - oh0);
            for (int ow0 = 0; ow0 < OW; ow0 += nb_full) {
                const int nb = std::min(nb_full, OW - ow0);
                detail::small_block_fn(nr, nb)(x + std::size_t(oh0) * W + ow0, W, tap, R, wvb, bv, out);
                for (int l = 0; l < lanes; ++l) {
                    float* yo = y + std::size_t(ob * 16 + l) * OHW;
                    for (int rr = 0; rr < nr; ++rr)
                        for (int q = 0; q < nb; ++q) yo[std::size_t(oh0 + rr) * OW + ow0 + q] = out[(rr * nb + q) * 16 + l];
                }
            }
        }
    }
}

// The forward over a batch, image n into out(t, n) then done(t, n, yn) on the same thread (as
// conv2d.hpp's conv2d_forward_images). Stride 1, no padding.
template <class Out, class Done>
void conv2d_small_forward_images(const float* x, const float* w, const float* b, int N, int O, const ConvGeometry& g,
                                 ConvWorkspace<float>& ws, Out&& out, Done&& done) {
    const std::size_t R = g.rows(), xs = std::size_t(g.C) * g.H * g.W;
    ws.wt.resize(std::size_t((O + 15) / 16) * R * 16);
    small_conv_pack_weights(w, O, R, ws.wt.data());
    const std::vector<int> tap = small_conv_taps(g.C, g.H, g.W, g.kh, g.kw);
    ws.prepare(ThreadPool::global().size());
    parallel_items(N, [&](int t, std::size_t n) {
        float* yn = out(t, n);
        conv2d_small_image_avx512(x + n * xs, g.C, g.H, g.W, g.kh, g.kw, tap.data(), ws.wt.data(), O, b, yn,
                                  ws.tmp_buffer(t, kSmallConvOutFloats));
        done(t, n, yn);
    });
}

// Backward-data over a batch: dx = the full correlation of dy with w, i.e. this kernel on dy
// padded by k-1 with wf[c][(o,i,j)] = w[o][c][kh-1-i][kw-1-j] (C output channels). Overwritten.
inline void conv2d_small_backward_data(const float* dy, const float* w, float* dx, int N, int O,
                                       const ConvGeometry& g, ConvWorkspace<float>& ws) {
    const int C = g.C, kh = g.kh, kw = g.kw, OH = g.OH(), OW = g.OW();
    const int Hp = OH + 2 * (kh - 1), Wp = OW + 2 * (kw - 1);
    const std::size_t xs = std::size_t(C) * g.H * g.W, ys = std::size_t(O) * OH * OW;
    const std::size_t R = std::size_t(O) * kh * kw;
    std::vector<float> wf(std::size_t(C) * R);
    for (int c = 0; c < C; ++c)
        for (int o = 0; o < O; ++o)
            for (int i = 0; i < kh; ++i)
                for (int j = 0; j < kw; ++j)
                    wf[std::size_t(c) * R + (std::size_t(o) * kh + i) * kw + j] =
                        w[((std::size_t(o) * C + c) * kh + (kh - 1 - i)) * kw + (kw - 1 - j)];
    ws.wt.resize(std::size_t((C + 15) / 16) * R * 16);
    small_conv_pack_weights(wf.data(), C, R, ws.wt.data());
    const std::vector<int> tap = small_conv_taps(O, Hp, Wp, kh, kw);
    ws.prepare(ThreadPool::global().size());
    parallel_items(N, [&](int t, std::size_t n) {
        float* pad = ws.pad_buffer(t, std::size_t(O) * Hp * Wp);
        pad_for_full_correlation(dy + n * ys, O, OH, OW, kh, kw, pad);
        conv2d_small_image_avx512(pad, O, Hp, Wp, kh, kw, tap.data(), ws.wt.data(), C, nullptr, dx + n * xs,
                                  ws.tmp_buffer(t, kSmallConvOutFloats));
    });
}
#endif

}  // namespace ann::cpu
