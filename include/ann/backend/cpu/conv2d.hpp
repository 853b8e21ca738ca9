#pragma once
// The CPU convolution entry points the Conv2d layer calls; each picks a kernel (float, stride 1,
// no padding, AVX-512 present; otherwise im2col + GEMM, conv_im2col.hpp):
//   maps at most 16 wide (forward: the output; backward-data: the input), 3x3, 5x5 or 7x7, 8k or
//       16k channels in the vectors (forward O, backward-data C) -> the row kernel
//       (conv_rows_avx512.hpp), except where its predicates name Winograd as faster;
//   3x3 or 5x5 on images at least 12 wide -> Winograd (conv_winograd.hpp: F(4x4,3x3) or
//       F(2x2,3x3) by the conv's output width, F(2x2,5x5)), forward and backward-data;
//   outputs at most 12 wide, 16k output channels (forward) or 16k input channels
//       (backward-data), other kernel sizes -> small-map kernel (conv_small_avx512.hpp);
//   otherwise direct kernels: conv_direct_avx512.hpp for forward and (where the padding waste
//       is small) backward-data, conv_wgrad_ovec_avx512.hpp for backward-weights (>= 8 output
//       channels; else conv_wgrad_avx512.hpp where the weights are many enough).
// The choice depends only on the shapes, the type and the CPU, so runs on one machine are
// reproducible; the kernels round differently (sums in another order).
//   x is (N, C, H, W), w is (O, C, kh, kw), b is (O,) or null, y is (N, O, OH, OW).
#include <algorithm>
#include <type_traits>

#include "ann/backend/cpu/conv_direct_avx512.hpp"
#include "ann/backend/cpu/conv_im2col.hpp"
#include "ann/backend/cpu/conv_rows_avx512.hpp"
#include "ann/backend/cpu/conv_small_avx512.hpp"
#include "ann/backend/cpu/conv_wgrad_avx512.hpp"
#include "ann/backend/cpu/conv_wgrad_ovec_avx512.hpp"
#include "ann/backend/cpu/conv_winograd.hpp"

namespace ann::cpu {

template <class T>
bool conv_uses_direct(const ConvGeometry& g) {
    return std::is_same_v<T, float> && g.stride == 1 && g.pad == 0 && have_avx512();
}

// Backward-weights by the direct kernel pays one horizontal sum per weight and image; with
// fewer than 128 weights per output channel im2col + GEMM measured as fast or faster.
template <class T>
bool conv_backward_weights_uses_direct(const ConvGeometry& g) {
    return conv_uses_direct<T>(g) && g.rows() >= 128;
}

// Backward-weights with the vectors over output channels (conv_wgrad_ovec_avx512.hpp): no
// horizontal sums, so it wins most where the maps are small. Chosen when the output channels
// fill at least half a vector (O >= 8) and kw is one it is built for. bench_conv, 2 threads,
// batch 50, GFLOP/s, this kernel vs the one used before (direct, or im2col below 128 weights per
// output channel), interleaved, best of 3: 3->16 k3 @32 174 vs 68 | 16->8 k5 @30 181 vs 136 |
// 8->16 k7 @13 161 vs 49 | 16->8 k3 @30 172 vs 128 | 8->16 k5 @28 204 vs 127 | 16->16 k5 @12
// 172 vs 63 | 3->8 k3 @32 143 vs 58 | 8->16 k3 @30 192 vs 101 | 16->8 k3 @28 173 vs 127 |
// 8->16 k3 @26 188 vs 95 | 16->16 k3 @12 167 vs 79 | 16->8 k3 @10 126 vs 65. With fewer output
// channels most lanes idle (1 thread: 16->3 k3 @30 30 vs 61, 16->1 k5 @12 9 vs 17).
template <class T>
bool conv_backward_weights_uses_ovec(const ConvGeometry& g, int O) {
    return conv_uses_direct<T>(g) && conv_wgrad_ovec_supports_kw(g.kw) && O >= 8;
}

// Backward-data by the direct kernel computes all H x (W+kw-1) full-width positions of the
// padded dy, of which only OH*OW carry non-zero taps: worth it when that fraction is at
// least half and there are enough input channels (the kernel's output channels) to fill a
// register block; measured in benchmarks/bench_conv.cpp.
template <class T>
bool conv_backward_data_uses_direct(const ConvGeometry& g) {
    return conv_uses_direct<T>(g) && g.C >= 8 && 2 * g.OH() * g.OW() >= g.H * (g.W + g.kw - 1);
}

// Small maps (conv_small_avx512.hpp): vectors across 16 output channels, for outputs at most 12
// wide and channel counts that fill whole vectors (forward: O; backward-data: the layer's C), where
// neither the row kernel nor Winograd is chosen (kernel sizes other than 3, 5, 7). bench_conv, 2
// threads, batch 50/100, GFLOP/s before -> after (docs/performance.md): cnn_3's 8->16 k7 on 13x13
// forward 102 -> 185-193, cnn_4's 16->16 k5 on 12x12 forward 127-134 -> 187-191 (both since taken
// by faster kernels).
template <class T>
bool conv_forward_uses_small(const ConvGeometry& g, int O) {
    return conv_uses_direct<T>(g) && O % 16 == 0 && g.OW() <= kSmallMaxCols && !conv_forward_uses_rows<T>(g, O) &&
           !conv_forward_uses_winograd<T>(g, O);
}
template <class T>
bool conv_backward_data_uses_small(const ConvGeometry& g, int O) {
    return conv_uses_direct<T>(g) && g.C % 16 == 0 && g.W <= kSmallMaxCols && !conv_backward_data_uses_rows<T>(g, O) &&
           !conv_backward_data_uses_winograd<T>(g, O);
}

// The forward, one image at a time (each image on one thread: the same bits for any thread
// count): image n goes to out(t, n) (thread t's choice of buffer, of
// O*OH*OW elements), and done(t, n, yn) runs right after on the same thread while the image is
// still in cache (the fused evaluation pass, conv_fused.hpp, activates and pools it there).
template <class T, class Out, class Done>
void conv2d_forward_images(const T* x, const T* w, const T* b, int N, int O, const ConvGeometry& g,
                           ConvWorkspace<T>& ws, Out&& out, Done&& done) {
    const std::size_t xs = std::size_t(g.C) * g.H * g.W;
    ws.prepare(ThreadPool::global().size());
#if ANN_HAVE_AVX512_KERNELS
    if constexpr (std::is_same_v<T, float>) {
        if (conv_forward_uses_rows<T>(g, O)) {
            conv2d_rows_forward_images(x, w, b, N, O, g, ws, out, done);
            return;
        }
        if (conv_forward_uses_winograd<T>(g, O)) {  // Winograd: conv_winograd.hpp
            conv2d_winograd_forward_images(x, w, b, N, O, g, ws, out, done);
            return;
        }
        if (conv_forward_uses_small<T>(g, O)) {
            conv2d_small_forward_images(x, w, b, N, O, g, ws, out, done);
            return;
        }
        if (conv_uses_direct<T>(g)) {
            // wt[(c,i,j)][o] = w[o][(c,i,j)]
            const std::size_t R = g.rows();
            ws.wt.resize(R * O);
            for (int o = 0; o < O; ++o)
                for (std::size_t r = 0; r < R; ++r) ws.wt[r * O + o] = w[o * R + r];
            const std::size_t full = std::size_t(g.OH() - 1) * g.W + g.OW();
            parallel_items(N, [&](int t, std::size_t n) {
                T* yn = out(t, n);
                conv2d_direct_image_avx512(x + n * xs, g.C, g.H, g.W, g.kh, g.kw, ws.wt.data(), O, b, yn,
                                           ws.tmp_buffer(t, O * full));
                done(t, n, yn);
            });
            return;
        }
    }
#endif
    parallel_items(N, [&](int t, std::size_t n) {
        T* yn = out(t, n);
        conv2d_im2col_image(x + n * xs, w, b, yn, O, g, ws, t);
        done(t, n, yn);
    });
}

// y = conv(x, w) + b, overwritten: each image written in place.
template <class T>
void conv2d_forward(const T* x, const T* w, const T* b, T* y, int N, int O, const ConvGeometry& g,
                    ConvWorkspace<T>& ws) {
    const std::size_t ys = std::size_t(O) * g.cols();
    conv2d_forward_images(
        x, w, b, N, O, g, ws, [&](int, std::size_t n) { return y + n * ys; }, [](int, std::size_t, T*) {});
}

// dx = dL/dx, overwritten.
template <class T>
void conv2d_backward_data(const T* dy, const T* w, T* dx, int N, int O, const ConvGeometry& g,
                          ConvWorkspace<T>& ws) {
#if ANN_HAVE_AVX512_KERNELS
    if constexpr (std::is_same_v<T, float>) {
        if (conv_backward_data_uses_rows<T>(g, O)) {
            conv2d_rows_backward_data(dy, w, dx, N, O, g, ws);
            return;
        }
        if (conv_backward_data_uses_winograd<T>(g, O)) {  // Winograd: conv_winograd.hpp
            conv2d_winograd_backward_data(dy, w, dx, N, O, g, ws);
            return;
        }
        if (conv_backward_data_uses_small<T>(g, O)) {
            conv2d_small_backward_data(dy, w, dx, N, O, g, ws);
            return;
        }
        if (conv_backward_data_uses_direct<T>(g)) {
            // Full correlation: dx = conv(pad(dy, k-1), w flipped, channels swapped).
            const int C = g.C, kh = g.kh, kw = g.kw, OH = g.OH(), OW = g.OW();
            const int Hp = OH + 2 * (kh - 1), Wp = OW + 2 * (kw - 1);
            const std::size_t xs = std::size_t(C) * g.H * g.W, ys = std::size_t(O) * OH * OW;
            ws.wt.resize(std::size_t(O) * kh * kw * C);
            for (int o = 0; o < O; ++o)
                for (int c = 0; c < C; ++c)
                    for (int i = 0; i < kh; ++i)
                        for (int j = 0; j < kw; ++j)
                            ws.wt[((std::size_t(o) * kh + i) * kw + j) * C + c] =
                                w[((std::size_t(o) * C + c) * kh + (kh - 1 - i)) * kw + (kw - 1 - j)];
            ws.prepare(ThreadPool::global().size());
            const std::size_t full = std::size_t(g.H - 1) * Wp + g.W;
            parallel_items(N, [&](int t, std::size_t n) {
                T* pad = ws.pad_buffer(t, std::size_t(O) * Hp * Wp);
                pad_for_full_correlation(dy + n * ys, O, OH, OW, kh, kw, pad);
                conv2d_direct_image_avx512(pad, O, Hp, Wp, kh, kw, ws.wt.data(), C, nullptr, dx + n * xs,
                                           ws.tmp_buffer(t, C * full));
            });
            return;
        }
    }
#endif
    conv2d_backward_data_im2col(dy, w, dx, N, O, g, ws);
}

// dw += dL/dw, db += dL/db (db may be null).
template <class T>
void conv2d_backward_weights(const T* x, const T* dy, T* dw, T* db, int N, int O, const ConvGeometry& g,
                             ConvWorkspace<T>& ws) {
#if ANN_HAVE_AVX512_KERNELS
    if constexpr (std::is_same_v<T, float>) {
        if (conv_backward_weights_uses_ovec<T>(g, O)) {  // vectors over output channels
            conv2d_backward_weights_ovec(x, dy, dw, db, N, O, g, ws);
            return;
        }
        if (conv_backward_weights_uses_direct<T>(g)) {
            const std::size_t R = g.rows(), P = g.cols(), xs = std::size_t(g.C) * g.H * g.W, ys = O * P;
            const std::size_t part = O * R + (db ? O : 0);
            const std::size_t full = std::size_t(g.OH() - 1) * g.W + g.OW();
            ws.prepare(ThreadPool::global().size());
            ws.partial.resize(std::size_t(N) * part);
            parallel_items(N, [&](int t, std::size_t n) {
                T* pn = ws.partial.data() + n * part;
                conv2d_wgrad_image_avx512(x + n * xs, dy + n * ys, g.C, g.H, g.W, g.kh, g.kw, O, pn,
                                          ws.tmp_buffer(t, O * full));
                if (db) conv2d_bias_partial(dy + n * ys, O, P, pn + O * R);
            });
            conv2d_reduce_weight_partials(dw, db, N, O * R, part, ws);
            return;
        }
    }
#endif
    conv2d_backward_weights_im2col(x, dy, dw, db, N, O, g, ws);
}

}  // namespace ann::cpu
