#pragma once
// Direct stride-1, unpadded convolution of small maps, one to three output rows per register
// block, with vectors across 8 or 16 channels, forward and backward-data, for 3x3, 5x5 and 7x7 kernels.
//
// Why: conv_small_avx512.hpp runs backward-data as a forward over dy padded by k-1, multiplying
// the zero border (2.25x the useful work on cnn_4's 12x12 5x5 layer, 0.44x oneDNN there), and
// wants 16 channels per vector (cnn_3's 7x7 layer has 8 input channels and went to im2col, 0.48x
// oneDNN). Here each input value is broadcast once and feeds every kw tap that reads it, and an
// accumulator is only touched by the taps that reach it, so backward-data does only the useful
// multiplies along a row:
//   forward        y[o, oh, q]  += w[o, c, i, j] * x[c, oh + i, q + j]        (q in [0, OW))
//   backward-data  dx[c, ih, q] += w[o, c, i, j] * dy[o, ih - i, q - j]       (only valid dy)
// Both are "acc[q] += wj * in[p]" over one input row with q = p + j - SHIFT, SHIFT = kw-1 forward
// (weights flipped along j), 0 backward; the compile-time (KW, NOUT, SHIFT) unroll keeps only the
// pairs whose q lies in the row. A block's taps, (c, i) forward or (o, i) backward (only the i
// whose dy row ih - i exists for one of the block's rows; dy gets kh-1 zero rows above and below),
// are listed once per call as input-row offsets (RowsPlan).
// The lanes are the output's channels: O forward, the layer's C backward. 16 lanes (zmm) where
// that count is a multiple of 16, else 8 (ymm) where it is a multiple of 8: on this project's AMD
// cores ymm FMAs run at the same FLOP rate (the FMA peak's AVX2 and AVX-512 loops agree within 0.2%).
// Each image is computed by one thread alone, in a fixed order: the same bits for any thread count.
#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "ann/backend/cpu/conv_im2col.hpp"  // ConvWorkspace, ConvGeometry
#include "ann/backend/cpu/simd.hpp"
#include "ann/backend/cpu/thread_pool.hpp"

namespace ann::cpu {

// Output columns per row block: a block holds rows_per_block(cols) rows, at most 24 accumulators,
// which with kw <= 7 weight vectors and one broadcast fit the 32 vector registers.
inline constexpr int kRowsMaxCols = 16;

// The vector width for n channels: 16, 8, or 0 (not supported).
inline int conv_rows_lanes(int n) { return n % 16 == 0 ? 16 : n % 8 == 0 ? 8 : 0; }

// Whether this kernel can compute a conv whose output rows are out_w wide with `lanes_of`
// channels in its vectors: float, stride 1, no padding, kw 3, 5 or 7, AVX-512.
template <class T>
bool conv_rows_applies(const ConvGeometry& g, int lanes_of, int out_w) {
    return std::is_same_v<T, float> && g.stride == 1 && g.pad == 0 && (g.kw == 3 || g.kw == 5 || g.kw == 7) &&
           conv_rows_lanes(lanes_of) > 0 && out_w <= kRowsMaxCols && have_avx512();
}

// Where it is chosen, by measurement (release build flags, one thread, batch 50, GFLOP/s counted
// as direct convolution; docs/performance.md, eighth session): everywhere it applies except where
// Winograd's fewer multiplies win, which takes wide enough maps and 16 or more channels on both
// sides (with 8, Winograd's transforms outweigh its GEMM):
// - forward 5x5 on images at least 12 wide: F(2x2,5x5) 114-120 against 109-111 here (8 channels:
//   75-83 against 100-105 here);
// - forward 3x3 with outputs at least 14 wide: F(4x4,3x3) 115-147 against 100-103 here (13 wide:
//   98 against 102; 8 channels at 14 wide: 68-92 against 92-103 here);
// - backward-data 3x3 onto images at least 16 wide: F(4x4,3x3) 102 against 96 here (15 wide: 90
//   against 95).
// Backward-data 5x5 and 7x7 always (here 86-104 against F(2x2,5x5)'s 35-91: that one also
// multiplies dy's zero border).
template <class T>
bool conv_forward_uses_rows(const ConvGeometry& g, int O) {
    const bool wide_channels = g.C >= 16 && O >= 16, square = g.kh == g.kw;
    return conv_rows_applies<T>(g, O, g.OW()) &&
           !(wide_channels && square && ((g.kw == 5 && g.W >= 12) || (g.kw == 3 && g.OW() >= 14)));
}
template <class T>
bool conv_backward_data_uses_rows(const ConvGeometry& g, int O) {
    const bool wide_channels = g.C >= 16 && O >= 16, square = g.kh == g.kw;
    return conv_rows_applies<T>(g, g.C, g.W) && !(wide_channels && square && g.kw == 3 && g.W >= 16);
}

#if ANN_HAVE_AVX512_KERNELS
namespace detail {

// NR output rows of NOUT columns x VL channels into out (NR, NOUT, VL): bias (VL values, or null
// for zero) plus, for each of the nt taps t, input rows in + src[t] + rr*stride (NOUT - KW + 1 +
// 2*SHIFT values each) times the KW weight vectors at wv + wof[t].
template <int VL, int KW, int NOUT, int SHIFT, int NR>
ANN_AVX512_TARGET inline void rows_block(const float* in, int stride, const int* src,
                                         const int* wof, int nt, const float* wv,
                                         const float* bias, float* out) {
    using Op = FloatVec<VL>;
    constexpr int NIN = NOUT - KW + 1 + 2 * SHIFT;
    typename Op::T acc[NR][NOUT];
    ANN_GCC_UNROLL(3)
    for (int rr = 0; rr < NR; ++rr) {
        ANN_GCC_UNROLL(16)
        for (int q = 0; q < NOUT; ++q) acc[rr][q] = bias ? Op::load(bias) : Op::zero();
    }
    for (int t = 0; t < nt; ++t) {
        const float* s = in + src[t];
        const float* wt = wv + wof[t];
        typename Op::T wj[KW];
        ANN_GCC_UNROLL(7)
        for (int j = 0; j < KW; ++j) wj[j] = Op::load(wt + j * VL);
        ANN_GCC_UNROLL(3)
        for (int rr = 0; rr < NR; ++rr) {
            // one base register per row, the columns as constant displacements
            const float* sr = s + (rr == 0 ? 0 : rr == 1 ? stride : 2 * stride);
            ANN_GCC_UNROLL(24)
            for (int p = 0; p < NIN; ++p) {
                const typename Op::T v = Op::bcast(sr + p);
                ANN_GCC_UNROLL(7)
                for (int j = 0; j < KW; ++j) {
                    const int q = p + j - SHIFT;
                    if (q >= 0 && q < NOUT) acc[rr][q] = Op::fma(wj[j], v, acc[rr][q]);
                }
            }
        }
    }
    ANN_GCC_UNROLL(3)
    for (int rr = 0; rr < NR; ++rr) {
        ANN_GCC_UNROLL(16)
        for (int q = 0; q < NOUT; ++q) Op::store(out + (rr * NOUT + q) * VL, acc[rr][q]);
    }
}

// Rows per block: as many as fit in 24 accumulators, at most 3.
constexpr int rows_per_block(int nout) { return 24 / nout >= 3 ? 3 : 24 / nout >= 2 ? 2 : 1; }

using RowsBlockFn = void (*)(const float*, int, const int*, const int*, int, const float*, const float*, float*);

// Entry 2*(nout-1) is the full block of rows_per_block(nout) rows, 2*(nout-1)+1 the one-row block.
template <int VL, int KW, int SHIFT, std::size_t... I>
constexpr std::array<RowsBlockFn, 2 * sizeof...(I)> rows_table(std::index_sequence<I...>) {
    std::array<RowsBlockFn, 2 * sizeof...(I)> t{};
    ((t[2 * I] = &rows_block<VL, KW, int(I) + 1, SHIFT, rows_per_block(int(I) + 1)>,
      t[2 * I + 1] = &rows_block<VL, KW, int(I) + 1, SHIFT, 1>), ...);
    return t;
}

// The block function for VL lanes, a KW-wide kernel, nout columns, forward or backward, full
// (rows_per_block(nout) rows) or one row.
template <int VL>
RowsBlockFn rows_block_fn(int kw, int nout, bool forward, bool full) {
    using Seq = std::make_index_sequence<kRowsMaxCols>;
    static constexpr auto f3 = rows_table<VL, 3, 2>(Seq{}), b3 = rows_table<VL, 3, 0>(Seq{});
    static constexpr auto f5 = rows_table<VL, 5, 4>(Seq{}), b5 = rows_table<VL, 5, 0>(Seq{});
    static constexpr auto f7 = rows_table<VL, 7, 6>(Seq{}), b7 = rows_table<VL, 7, 0>(Seq{});
    const auto& t = kw == 3 ? (forward ? f3 : b3) : kw == 5 ? (forward ? f5 : b5) : (forward ? f7 : b7);
    return t[std::size_t(2 * (nout - 1) + (full ? 0 : 1))];
}

}  // namespace detail

// What one call shares between its threads: the repacked weights and every row block's taps.
struct RowsPlan {
    int lanes = 0, rows = 0, cols = 0, kw = 0;  // output channels per vector; output rows, columns
    bool forward = true;
    int stride = 0;                             // from one input row of a block to the next
    std::vector<int> row0, nrows, start;        // block b: rows [row0, row0 + nrows), taps [start[b], start[b+1])
    std::vector<int> src, wof;                  // a tap: the block's first input row, its weights
    std::vector<float> wv;                      // (channel blocks, taps (ch, i), kw, lanes)
    std::size_t wblock = 0;                     // floats of wv per channel block

    // Row blocks of rows_per_block(cols) rows, the remainder one row at a time; taps(r0, nr) lists
    // each block's taps.
    template <class Taps>
    void blocks(Taps&& taps) {
        const int nrb = detail::rows_per_block(cols);
        for (int r0 = 0; r0 < rows;) {
            const int nr = rows - r0 >= nrb ? nrb : 1;
            row0.push_back(r0);
            nrows.push_back(nr);
            start.push_back(int(src.size()));
            taps(r0, nr);
            r0 += nr;
        }
        start.push_back(int(src.size()));
    }

    // wv from w (O, C, kh, kw): lanes over O with taps (c, i) and the weights flipped in j
    // (forward), or lanes over C with taps (o, i) (backward-data).
    void pack(const float* w, int O, int C, int kh, bool forward_layout) {
        const int L = lanes, taps = forward_layout ? C : O, chans = forward_layout ? O : C;
        wblock = std::size_t(taps) * kh * kw * L;
        wv.resize(std::size_t(chans / L) * wblock);
        for (int o = 0; o < O; ++o)
            for (int c = 0; c < C; ++c) {
                const int ch = forward_layout ? o : c, tap = forward_layout ? c : o;
                for (int i = 0; i < kh; ++i)
                    for (int j = 0; j < kw; ++j)
                        wv[std::size_t(ch / L) * wblock + ((std::size_t(tap) * kh + i) * kw + j) * L + ch % L] =
                            w[((std::size_t(o) * C + c) * kh + i) * kw + (forward_layout ? kw - 1 - j : j)];
            }
    }
};

// Forward: lanes over O; tap (c, i) of output row oh reads x row c*H + oh + i; weights flipped in j.
inline RowsPlan rows_plan_forward(const float* w, int O, const ConvGeometry& g) {
    RowsPlan p;
    p.lanes = conv_rows_lanes(O);
    p.rows = g.OH();
    p.cols = g.OW();
    p.kw = g.kw;
    p.stride = g.W;
    const int C = g.C, kh = g.kh, kw = g.kw, L = p.lanes;
    p.pack(w, O, C, kh, true);
    p.blocks([&](int r0, int) {
        for (int c = 0; c < C; ++c)
            for (int i = 0; i < kh; ++i) {
                p.src.push_back((c * g.H + r0 + i) * g.W);
                p.wof.push_back((c * kh + i) * kw * L);
            }
    });
    return p;
}

// Backward-data: lanes over the layer's C, reading dy padded by kh-1 zero rows above and below
// (rows_pad_dy; no columns: those would be multiplied). Tap (o, i) of dx row ih reads dy row
// ih - i; a block lists the i that reach at least one of its rows, so only those of its rows
// near dy's top or bottom edge multiply a zero row.
inline int rows_padded_dy_rows(const ConvGeometry& g) { return g.OH() + 2 * (g.kh - 1); }

inline RowsPlan rows_plan_backward_data(const float* w, int O, const ConvGeometry& g) {
    RowsPlan p;
    p.lanes = conv_rows_lanes(g.C);
    p.rows = g.H;
    p.cols = g.W;
    p.kw = g.kw;
    p.forward = false;
    p.stride = g.OW();
    const int C = g.C, kh = g.kh, kw = g.kw, L = p.lanes, OH = g.OH(), OW = g.OW(), HP = rows_padded_dy_rows(g);
    p.pack(w, O, C, kh, false);
    p.blocks([&](int r0, int nr) {
        for (int o = 0; o < O; ++o)
            for (int i = std::max(0, r0 - OH + 1); i <= std::min(kh - 1, r0 + nr - 1); ++i) {
                p.src.push_back((o * HP + r0 - i + kh - 1) * OW);
                p.wof.push_back((o * kh + i) * kw * L);
            }
    });
    return p;
}

// dy (O, OH, OW) -> (O, OH + 2(kh-1), OW) with kh-1 zero rows above and below each channel.
inline void rows_pad_dy(const float* dy, int O, const ConvGeometry& g, float* out) {
    const int OH = g.OH(), OW = g.OW(), HP = rows_padded_dy_rows(g);
    const std::size_t edge = std::size_t(g.kh - 1) * OW, body = std::size_t(OH) * OW;
    for (int o = 0; o < O; ++o) {
        float* d = out + std::size_t(o) * HP * OW;
        std::fill(d, d + edge, 0.f);
        std::copy(dy + o * body, dy + (o + 1) * body, d + edge);
        std::fill(d + edge + body, d + 2 * edge + body, 0.f);
    }
}

// One image: in -> out (channels, rows, cols), bias (per output channel) or null; tmp holds one
// block (kRowsTmpFloats).
ANN_AVX512_TARGET inline void conv2d_rows_image(const RowsPlan& p, int channels,
                                                const float* in, const float* bias, float* out,
                                                float* tmp) {
    const int L = p.lanes;
    const std::size_t plane = std::size_t(p.rows) * p.cols;
    const auto pick = [&](bool full) {
        return L == 16 ? detail::rows_block_fn<16>(p.kw, p.cols, p.forward, full)
                       : detail::rows_block_fn<8>(p.kw, p.cols, p.forward, full);
    };
    const detail::RowsBlockFn full = pick(true), one = pick(false);
    const int nrb = detail::rows_per_block(p.cols);
    for (int cb = 0; cb * L < channels; ++cb) {
        const float* bv = bias ? bias + cb * L : nullptr;
        const float* wv = p.wv.data() + std::size_t(cb) * p.wblock;
        for (std::size_t b = 0; b < p.row0.size(); ++b) {
            const int t0 = p.start[b], nr = p.nrows[b];
            (nr == nrb ? full : one)(in, p.stride, p.src.data() + t0, p.wof.data() + t0, p.start[b + 1] - t0, wv, bv,
                                     tmp);
            // (nr, cols, L) -> L planes' rows row0 .. row0 + nr
            for (int l = 0; l < L; ++l) {
                float* dst = out + (std::size_t(cb) * L + l) * plane + std::size_t(p.row0[b]) * p.cols;
                for (int q = 0; q < nr * p.cols; ++q) dst[q] = tmp[q * L + l];
            }
        }
    }
}

inline constexpr std::size_t kRowsTmpFloats = std::size_t(24) * 16;  // one block: 24 accumulators

// The forward over a batch, image n into out(t, n) then done(t, n, yn) on the same thread (as
// conv2d.hpp's conv2d_forward_images).
template <class Out, class Done>
void conv2d_rows_forward_images(const float* x, const float* w, const float* b, int N, int O, const ConvGeometry& g,
                                ConvWorkspace<float>& ws, Out&& out, Done&& done) {
    const RowsPlan p = rows_plan_forward(w, O, g);
    const std::size_t xs = std::size_t(g.C) * g.H * g.W;
    ws.prepare(ThreadPool::global().size());
    parallel_items(N, [&](int t, std::size_t n) {
        float* yn = out(t, n);
        conv2d_rows_image(p, O, x + n * xs, b, yn, ws.tmp_buffer(t, kRowsTmpFloats));
        done(t, n, yn);
    });
}

// Backward-data over a batch, dx overwritten.
inline void conv2d_rows_backward_data(const float* dy, const float* w, float* dx, int N, int O, const ConvGeometry& g,
                                      ConvWorkspace<float>& ws) {
    const RowsPlan p = rows_plan_backward_data(w, O, g);
    const std::size_t xs = std::size_t(g.C) * g.H * g.W, ys = std::size_t(O) * g.OH() * g.OW();
    ws.prepare(ThreadPool::global().size());
    parallel_items(N, [&](int t, std::size_t n) {
        float* pad = ws.pad_buffer(t, std::size_t(O) * rows_padded_dy_rows(g) * g.OW());
        rows_pad_dy(dy + n * ys, O, g, pad);
        conv2d_rows_image(p, g.C, pad, nullptr, dx + n * xs, ws.tmp_buffer(t, kRowsTmpFloats));
    });
}
#endif

}  // namespace ann::cpu
