#pragma once
// Evaluation's fused pass on the CPU (Backend::conv2d_forward_fused): each thread takes a whole
// image, convolves it (the kernel conv2d.hpp picks for the shape, as in training), then applies
// the activation and the max-pool to that image while it is still in the core's cache, and
// writes only the pooled result. The unfused layers instead stream the whole batch's conv output
// (up to 5.8 MB at batch 100) through memory twice more, in two more parallel regions, and
// record argmax indices that evaluation never reads.
// The conv, the activation and the pool are the same per-element operations as the layers', so
// the values are the same bits as Conv2d, the activation and MaxPool2d one after another
// (tests/test_fast_paths.cpp).
#include "ann/backend/cpu/activations.hpp"
#include "ann/backend/cpu/conv2d.hpp"
#include "ann/backend/cpu/maxpool.hpp"

namespace ann::cpu {

template <class T>
void conv2d_forward_fused(const T* x, const T* w, const T* b, const ConvEpilogue& e, T* y, int N, int O,
                          const ConvGeometry& g, ConvWorkspace<T>& ws) {
    const std::size_t conv_size = std::size_t(O) * g.cols();
    const std::size_t out_size = std::size_t(O) * e.PH(g) * e.PW(g);
    ws.prepare(ThreadPool::global().size());
    conv2d_forward_images(
        x, w, b, N, O, g, ws,
        // Without a pool the conv output is the final output: written in place.
        [&](int t, std::size_t n) { return e.pool_k ? ws.fused_buffer(t, conv_size) : y + n * out_size; },
        [&](int, std::size_t n, T* yn) {
            if (e.activate) activation_forward_serial(e.activation, yn, yn, conv_size);
            if (e.pool_k)
                maxpool_planes(yn, y + n * out_size, static_cast<std::uint32_t*>(nullptr), 0, std::size_t(O), g.OH(),
                               g.OW(), e.PH(g), e.PW(g), e.pool_k, e.pool_s);
        });
}

}  // namespace ann::cpu
