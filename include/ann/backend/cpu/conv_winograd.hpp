#pragma once
// Winograd convolution, stride 1, no padding: 3x3 kernels in F(2x2,3x3) (conv_winograd_f23.hpp)
// or F(4x4,3x3) (conv_winograd_f43.hpp), 5x5 kernels in F(2x2,5x5) (conv_winograd_f25.hpp); the
// forward, and backward-data as the same forward on dy zero-padded by k-1 with the flipped,
// channel-swapped weights (the full correlation, as in conv2d.hpp's direct backward-data).
//   x is (C, H, W) per image, w is (O, C, k, k), y is (O, OH, OW) = conv(x, w) + bias.
// Each variant's header derives its float error bound (tests/test_conv_winograd.cpp checks it).
//
// Implementations (conv_winograd_core.hpp, written once for every variant): a portable scalar
// template (float and double; the transform math is tested in double, and it is the fallback
// without AVX-512) and an AVX-512 float kernel for ONE image per call (parallel_items over
// images: each image on one thread, so results do not depend on the thread count). AVX-512
// layout: 16 tiles per zmm, either along a tile row or, for narrow images, several whole tile rows
// per zmm (WinogradLanes), so small maps waste no transform lanes; the input transform splits
// each input row into the tiles' columns with vpermt2ps; the GEMM register block is 8 output
// channels x 32 tiles; the output transform re-interleaves the tiles' columns into output rows.
// The image is processed in blocks of tile rows (about 64 tiles) so V and M stay near L1/L2.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ann/backend/cpu/conv_direct_avx512.hpp"
#include "ann/backend/cpu/conv_im2col.hpp"
#include "ann/backend/cpu/conv_rows_avx512.hpp"  // its predicates: where it wins, Winograd is not used
#include "ann/backend/cpu/conv_winograd_core.hpp"
#include "ann/backend/cpu/conv_winograd_f23.hpp"
#include "ann/backend/cpu/conv_winograd_f25.hpp"
#include "ann/backend/cpu/conv_winograd_f43.hpp"
#include "ann/core/error.hpp"

namespace ann::cpu {

// Whether a Winograd kernel can compute this convolution at all: 3x3 or 5x5, stride 1, no padding.
inline bool conv_is_winograd_shape(const ConvGeometry& g) {
    return (g.kh == 3 || g.kh == 5) && g.kw == g.kh && g.stride == 1 && g.pad == 0 && g.H >= g.kh && g.W >= g.kw;
}

// Which variant, by measurement (bench_conv, one thread's CPU time, batch 50 and 100, the tables in
// docs/performance.md, seventh and eighth sessions):
// - 3x3 whose conv output is at least 13 wide (every 3x3 layer of cnn_4 and cnn_5 but the 12x12
//   and 10x10 ones, forward and backward-data): F(4x4,3x3), faster than F(2x2,3x3) there (13 to
//   15 wide, release flags, one thread: 98-100 against 88-90 GFLOP/s forward, 67-89 against 60-81
//   backward-data; 12 wide: 61 against 89 forward, 55 against 62 backward-data).
//   Narrower, F(4x4,3x3) has too few tiles to fill a vector (a 10x10 output is 9 of them).
// - 5x5: F(2x2,5x5).
// Where the row kernel (conv_rows_avx512.hpp) is faster, it is chosen instead: its predicates
// say where; the small maps of the homework (cnn_5's 12x12 and 10x10 3x3 layers, cnn_4's 12x12
// 5x5 layer's backward-data) go there. F(2x2,3x3) stays for 3x3 layers 12 to 14 wide whose
// channels do not fill 8 lanes.
// The output tile m of the variant for a k x k kernel whose conv output is out_w wide (forward:
// the layer's OW; backward-data: its W).
inline int winograd_tile(int k, int out_w) { return k == 3 && out_w >= 13 ? 4 : 2; }
inline int winograd_min_width(int /*k*/) { return 12; }  // both kernel sizes

template <class T>
bool conv_forward_uses_winograd(const ConvGeometry& g, int O) {
    return std::is_same_v<T, float> && conv_is_winograd_shape(g) && have_avx512() &&
           g.W >= winograd_min_width(g.kh) && !conv_forward_uses_rows<T>(g, O);
}

template <class T>
bool conv_backward_data_uses_winograd(const ConvGeometry& g, int O) {
    return std::is_same_v<T, float> && conv_is_winograd_shape(g) && have_avx512() &&
           g.W >= winograd_min_width(g.kh) && !conv_backward_data_uses_rows<T>(g, O);
}

// Calls f(Vt{}) with the variant of kernel size k (3 or 5) and output tile m.
template <class F>
void with_winograd_variant(int k, int m, F&& f) {
    if (k == 5 && m == 2) return f(WinogradF25{});
    if (k == 3 && m == 4) return f(WinogradF43{});
    if (k == 3 && m == 2) return f(WinogradF23{});
    fail("Winograd convolution: no F(", m, "x", m, ",", k, "x", k, ") kernel (there are F(2x2,3x3), F(4x4,3x3) and F(2x2,5x5))");
}

// One image (x (C, H, W) -> y (O, H-k+1, W-k+1)) through the AVX-512 kernel (float, when
// `vectorised` and the CPU has it) or the scalar one; tmp = thread t's scratch from ws; U from
// winograd_weights_from_g(Vt::G).
template <class Vt, class T>
void conv2d_winograd_image(const T* x, int C, int H, int W, const T* U, int O, const T* bias, T* y,
                           ConvWorkspace<T>& ws, int t, bool vectorised) {
#if ANN_HAVE_AVX512_KERNELS
    if constexpr (std::is_same_v<T, float>) {
        if (vectorised && have_avx512()) {
            const int OH = H - Vt::kR + 1, OW = W - Vt::kR + 1;
            winograd_image_avx512<Vt>(x, C, H, W, U, O, bias, y, ws.tmp_buffer(t, winograd_tmp_floats<Vt>(C, O, OH, OW)));
            return;
        }
    }
#endif
    (void)vectorised;
    winograd_image_scalar<Vt>(x, C, H, W, U, O, bias, y, ws.tmp_buffer(t, std::size_t(Vt::kA * Vt::kA) * C));
}

// The forward over a batch (g must satisfy conv_is_winograd_shape): image n into out(t, n), then
// done(t, n, yn) on the same thread (as conv2d.hpp's conv2d_forward_images). m: the output tile
// (2 or 4 for 3x3; 0: winograd_tile's pick).
template <class T, class Out, class Done>
void conv2d_winograd_forward_images(const T* x, const T* w, const T* b, int N, int O, const ConvGeometry& g,
                                    ConvWorkspace<T>& ws, Out&& out, Done&& done, bool vectorised = true, int m = 0) {
    with_winograd_variant(g.kh, m ? m : winograd_tile(g.kh, g.OW()), [&](auto variant) {
        using Vt = decltype(variant);
        const std::size_t xs = std::size_t(g.C) * g.H * g.W;
        ws.wt.resize(std::size_t(Vt::kA * Vt::kA) * g.C * O);
        winograd_weights_from_g(Vt::G, w, O, g.C, false, ws.wt.data());
        ws.prepare(ThreadPool::global().size());
        parallel_items(N, [&](int t, std::size_t n) {
            T* yn = out(t, n);
            conv2d_winograd_image<Vt>(x + n * xs, g.C, g.H, g.W, ws.wt.data(), O, b, yn, ws, t, vectorised);
            done(t, n, yn);
        });
    });
}

// y = conv(x, w) + b over a batch, overwritten.
template <class T>
void conv2d_winograd_forward(const T* x, const T* w, const T* b, T* y, int N, int O, const ConvGeometry& g,
                             ConvWorkspace<T>& ws, bool vectorised = true, int m = 0) {
    const std::size_t ys = std::size_t(O) * g.cols();
    conv2d_winograd_forward_images(
        x, w, b, N, O, g, ws, [&](int, std::size_t n) { return y + n * ys; }, [](int, std::size_t, T*) {},
        vectorised, m);
}

// dx = dL/dx over a batch (g must satisfy conv_is_winograd_shape), overwritten: per image, the
// forward on dy zero-padded by k-1 with the flipped, channel-swapped weights (the full correlation).
template <class T>
void conv2d_winograd_backward_data(const T* dy, const T* w, T* dx, int N, int O, const ConvGeometry& g,
                                   ConvWorkspace<T>& ws, bool vectorised = true, int m = 0) {
    const int k = g.kh, OH = g.OH(), OW = g.OW(), Hp = OH + 2 * (k - 1), Wp = OW + 2 * (k - 1);
    with_winograd_variant(k, m ? m : winograd_tile(k, g.W), [&](auto variant) {
        using Vt = decltype(variant);
        const std::size_t xs = std::size_t(g.C) * g.H * g.W, ys = std::size_t(O) * OH * OW;
        ws.wt.resize(std::size_t(Vt::kA * Vt::kA) * g.C * O);
        winograd_weights_from_g(Vt::G, w, O, g.C, true, ws.wt.data());
        ws.prepare(ThreadPool::global().size());
        parallel_items(N, [&](int t, std::size_t n) {
            T* pad = ws.pad_buffer(t, std::size_t(O) * Hp * Wp);
            pad_for_full_correlation(dy + n * ys, O, OH, OW, k, k, pad);
            conv2d_winograd_image<Vt>(pad, O, Hp, Wp, ws.wt.data(), g.C, static_cast<const T*>(nullptr), dx + n * xs, ws,
                                      t, vectorised);
        });
    });
}

}  // namespace ann::cpu
