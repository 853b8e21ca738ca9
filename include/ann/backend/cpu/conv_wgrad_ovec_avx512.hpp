#pragma once
// Weight gradient of a stride-1, unpadded convolution for ONE image with AVX-512, the vectors
// running over OUTPUT CHANNELS (conv_wgrad_avx512.hpp runs them over positions instead).
//   x is (C, H, W), dy is (O, OH, OW); out is (R, Op), R = C*kh*kw, Op = O rounded up to the
//   vector width V (8: ymm, for O <= 8; else 16: zmm):  out[r][o] = sum_p dy[o, p] * x_col[r, p],
//   OVERWRITTEN (lanes o >= O come out zero). The caller sums the images' results in image order.
//
// dy is first transposed to dyt (P, Op). Then a block of NR kernel rows (c, i), each with its KW
// taps j, keeps NR*KW accumulators of V output channels in registers over ALL the image's
// positions: per position (oh, ow) one dy vector load and NR*KW FMAs, each with its x value
// x[c, (oh+i)*W + ow + j] broadcast from memory (an FMA operand). No horizontal sums (the
// position-vector kernel pays one per weight and image, which dominates on small maps), no
// im2col copy, and each accumulator is stored once per image.
// Kernel rows of a block: rr = c*kh + i in a consecutive range, so the taps r = rr*kw + j of a
// block are consecutive too; the rows are split into blocks of (nearly) equal size, at most
// 28 / kw rows (8 for 1x1 kernels).
#include <algorithm>
#include <cstddef>

#include "ann/backend/cpu/conv_direct_avx512.hpp"
#include "ann/backend/cpu/conv_im2col.hpp"
#include "ann/backend/cpu/thread_pool.hpp"
#include "ann/backend/cpu/simd.hpp"

namespace ann::cpu {

// kw the kernel below is instantiated for (others: conv_wgrad_avx512.hpp).
inline bool conv_wgrad_ovec_supports_kw(int kw) { return kw == 1 || kw == 3 || kw == 5 || kw == 7; }
// Padded output-channel count of the partials: the vector width's multiple.
inline int conv_wgrad_ovec_padded(int O) { return O <= 8 ? 8 : (O + 15) / 16 * 16; }

#if ANN_HAVE_AVX512_KERNELS
namespace detail {

// NR kernel rows from rr0, KW taps each, output channels o0 .. o0+V-1.
// With bias != null also bias[o0 ..] = sum_p dy[o, p], in p order (conv2d_bias_partial's order).
template <int V, int KW, int NR>
ANN_AVX512_TARGET inline void wgrad_ovec_block(const float* x, const float* dyt, int H, int W, int kh, int OH,
                                               int OW, int Op, int o0, int rr0, float* out, float* bias) {
    using Vec = FloatVec<V>;
    typename Vec::T acc[NR][KW], bsum = Vec::zero();
ANN_GCC_UNROLL(28)
    for (int r = 0; r < NR; ++r)
ANN_GCC_UNROLL(7)
        for (int j = 0; j < KW; ++j) acc[r][j] = Vec::zero();
    std::ptrdiff_t off[NR];  // kernel row rr = c*kh + i starts at x + off
    for (int r = 0; r < NR; ++r) {
        const int rr = rr0 + r;
        off[r] = std::ptrdiff_t(rr / kh) * H * W + (rr % kh) * W;
    }
    const float* d = dyt + o0;
    for (int oh = 0; oh < OH; ++oh) {
        const float* xq = x + std::size_t(oh) * W;
        for (int ow = 0; ow < OW; ++ow, d += Op, ++xq) {
            // Hides xq's relation to the previous position's: otherwise GCC (-O3's predictive
            // commoning) keeps x[q + j] from one position for tap j-1 of the next, as broadcast
            // vectors spilled to the stack, which ran ~3x slower than broadcasting every FMA.
            __asm__("" : "+r"(xq));
            const auto dv = Vec::load(d);
            bsum = Vec::add(bsum, dv);  // (cheaper than a branch; stored only where asked)
ANN_GCC_UNROLL(28)
            for (int r = 0; r < NR; ++r)
ANN_GCC_UNROLL(7)
                for (int j = 0; j < KW; ++j) acc[r][j] = Vec::fma_bcast(dv, xq + off[r] + j, acc[r][j]);
        }
    }
ANN_GCC_UNROLL(28)
    for (int r = 0; r < NR; ++r)
ANN_GCC_UNROLL(7)
        for (int j = 0; j < KW; ++j) Vec::store(out + (std::size_t(rr0 + r) * KW + j) * Op + o0, acc[r][j]);
    if (bias) Vec::store(bias + o0, bsum);
}

template <int V, int KW, int NR>
inline void wgrad_ovec_dispatch(int nr, const float* x, const float* dyt, int H, int W, int kh, int OH, int OW,
                                int Op, int o0, int rr0, float* out, float* bias) {
    if constexpr (NR >= 1) {
        if (nr == NR)
            wgrad_ovec_block<V, KW, NR>(x, dyt, H, W, kh, OH, OW, Op, o0, rr0, out, bias);
        else
            wgrad_ovec_dispatch<V, KW, NR - 1>(nr, x, dyt, H, W, kh, OH, OW, Op, o0, rr0, out, bias);
    }
}

template <int V, int KW>
inline void wgrad_ovec_image(const float* x, const float* dyt, int C, int H, int W, int kh, int Op, float* out,
                             float* bias) {
    constexpr int NRmax = KW == 1 ? 8 : 28 / KW;  // at most 28 accumulators (of 32 registers)
    const int OH = H - kh + 1, OW = W - KW + 1, rows = C * kh;
    const int nb = (rows + NRmax - 1) / NRmax, base = rows / nb, extra = rows % nb;
    for (int o0 = 0; o0 < Op; o0 += V)
        for (int b = 0, rr0 = 0; b < nb; ++b) {
            const int nr = base + (b < extra ? 1 : 0);
            wgrad_ovec_dispatch<V, KW, NRmax>(nr, x, dyt, H, W, kh, OH, OW, Op, o0, rr0, out, b == 0 ? bias : nullptr);
            rr0 += nr;
        }
}

// dyt[p*Op + o] = dy[o*P + p], zero for O <= o < Op; 8x8 blocks transposed in registers, all of
// a group of 8 positions' channels in turn (each dyt line written at once).
ANN_AVX512_TARGET inline void wgrad_transpose_dy(const float* dy, int O, int P, int Op, float* dyt) {
    const int O8 = O / 8 * 8;
    int p = 0;
    for (; p + 8 <= P; p += 8) {
        for (int o0 = 0; o0 < O8; o0 += 8) {
            __m256 r[8], t[8];
ANN_GCC_UNROLL(8)
            for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(dy + std::size_t(o0 + k) * P + p);
ANN_GCC_UNROLL(4)
            for (int k = 0; k < 8; k += 2) {
                t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
                t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
            }
ANN_GCC_UNROLL(2)
            for (int k = 0; k < 8; k += 4) {
                r[k] = _mm256_shuffle_ps(t[k], t[k + 2], 0x44);
                r[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], 0xEE);
                r[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0x44);
                r[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0xEE);
            }
ANN_GCC_UNROLL(4)
            for (int k = 0; k < 4; ++k) {
                _mm256_storeu_ps(dyt + std::size_t(p + k) * Op + o0, _mm256_permute2f128_ps(r[k], r[k + 4], 0x20));
                _mm256_storeu_ps(dyt + std::size_t(p + k + 4) * Op + o0, _mm256_permute2f128_ps(r[k], r[k + 4], 0x31));
            }
        }
        for (int q = p; q < p + 8; ++q)
            for (int o = O8; o < Op; ++o) dyt[std::size_t(q) * Op + o] = o < O ? dy[std::size_t(o) * P + q] : 0.f;
    }
    for (; p < P; ++p)
        for (int o = 0; o < Op; ++o) dyt[std::size_t(p) * Op + o] = o < O ? dy[std::size_t(o) * P + p] : 0.f;
}

}  // namespace detail

// One image; out (R, Op) as above, then with `bias` also the Op per-channel sums of dy (in
// position order, the bits of conv2d_bias_partial) at out + R*Op; dyt: scratch of OH*OW*Op
// floats. kw must be one of conv_wgrad_ovec_supports_kw's.
inline void conv2d_wgrad_image_ovec_avx512(const float* x, const float* dy, int C, int H, int W, int kh, int kw,
                                           int O, bool bias, float* out, float* dyt) {
    float* const bout = bias ? out + std::size_t(C) * kh * kw * conv_wgrad_ovec_padded(O) : nullptr;
    const int Op = conv_wgrad_ovec_padded(O), P = (H - kh + 1) * (W - kw + 1);
    detail::wgrad_transpose_dy(dy, O, P, Op, dyt);
    const bool y = Op == 8;
    switch (kw) {
        case 1: y ? detail::wgrad_ovec_image<8, 1>(x, dyt, C, H, W, kh, Op, out, bout)
                  : detail::wgrad_ovec_image<16, 1>(x, dyt, C, H, W, kh, Op, out, bout); break;
        case 3: y ? detail::wgrad_ovec_image<8, 3>(x, dyt, C, H, W, kh, Op, out, bout)
                  : detail::wgrad_ovec_image<16, 3>(x, dyt, C, H, W, kh, Op, out, bout); break;
        case 5: y ? detail::wgrad_ovec_image<8, 5>(x, dyt, C, H, W, kh, Op, out, bout)
                  : detail::wgrad_ovec_image<16, 5>(x, dyt, C, H, W, kh, Op, out, bout); break;
        default: y ? detail::wgrad_ovec_image<8, 7>(x, dyt, C, H, W, kh, Op, out, bout)
                   : detail::wgrad_ovec_image<16, 7>(x, dyt, C, H, W, kh, Op, out, bout); break;
    }
}
#endif

// Sums per-image partials laid out (R, Op) [+ Op bias sums] (part floats each, in `partial`) in
// image order, then dw[o][r] += sum[r][o], db[o] += sum[R*Op + o] (o < O). Every element is summed
// by one thread in image order, so the result is independent of the split over threads.
template <class T>
void conv2d_reduce_weight_partials_transposed(T* dw, T* db, int N, int O, std::size_t R, int Op, std::size_t part,
                                              T* partial) {
    const std::size_t ROp = R * std::size_t(Op);
    parallel_for(part, [&](std::size_t lo, std::size_t hi) {
        T* acc = partial;
        for (int n = 1; n < N; ++n) {
            const T* pn = partial + n * part;
            for (std::size_t e = lo; e < hi; ++e) acc[e] += pn[e];
        }
        for (std::size_t e = lo; e < hi; ++e) {
            if (e < ROp) {
                const std::size_t r = e / Op;
                const int o = int(e % Op);
                if (o < O) dw[std::size_t(o) * R + r] += acc[e];
            } else if (e - ROp < std::size_t(O)) {
                db[e - ROp] += acc[e];
            }
        }
    }, 4096);
}

#if ANN_HAVE_AVX512_KERNELS
// dw += dL/dw, db += dL/db (db may be null) for float, stride 1, no padding, kw one of
// conv_wgrad_ovec_supports_kw's, on a CPU with AVX-512 (conv2d.hpp's predicate decides when).
// Each image's partial is computed by one thread alone and the partials are summed in image
// order: the same bits for any thread count and scheduling.
inline void conv2d_backward_weights_ovec(const float* x, const float* dy, float* dw, float* db, int N, int O,
                                         const ConvGeometry& g, ConvWorkspace<float>& ws) {
    const std::size_t R = g.rows(), P = g.cols(), xs = std::size_t(g.C) * g.H * g.W, ys = std::size_t(O) * P;
    const int Op = conv_wgrad_ovec_padded(O);
    const std::size_t part = (R + (db ? 1 : 0)) * Op;  // (R, Op) dw, then Op db sums
    ws.prepare(ThreadPool::global().size());
    ws.partial.resize(std::size_t(N) * part);
    parallel_items(N, [&](int t, std::size_t n) {
        conv2d_wgrad_image_ovec_avx512(x + n * xs, dy + n * ys, g.C, g.H, g.W, g.kh, g.kw, O, db != nullptr,
                                       ws.partial.data() + n * part, ws.tmp_buffer(t, P * Op));
    });
    conv2d_reduce_weight_partials_transposed(dw, db, N, O, R, Op, part, ws.partial.data());
}
#endif

}  // namespace ann::cpu
