#pragma once
// Average pooling on the CPU: the per-element formulas of backend/avgpool_windows.hpp, planes
// split over the pool's threads (each element computed alone, so any thread count gives the
// same bits).
#include <cstddef>

#include "ann/backend/avgpool_windows.hpp"
#include "ann/backend/cpu/thread_pool.hpp"

namespace ann::cpu {

template <class T>
void avgpool_forward(const T* x, T* y, std::size_t planes, const AvgPoolGeometry& g) {
    const std::size_t HW = std::size_t(g.H) * g.W, OHW = std::size_t(g.OH) * g.OW;
    parallel_for(planes, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t p = lo; p < hi; ++p)
            for (int oh = 0; oh < g.OH; ++oh)
                for (int ow = 0; ow < g.OW; ++ow)
                    y[p * OHW + std::size_t(oh) * g.OW + ow] = shared::avgpool_output(x + p * HW, g, oh, ow);
    }, 8);
}

template <class T>
void avgpool_backward(const T* dy, T* dx, std::size_t planes, const AvgPoolGeometry& g) {
    const std::size_t HW = std::size_t(g.H) * g.W, OHW = std::size_t(g.OH) * g.OW;
    parallel_for(planes, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t p = lo; p < hi; ++p)
            for (int h = 0; h < g.H; ++h)
                for (int w = 0; w < g.W; ++w)
                    dx[p * HW + std::size_t(h) * g.W + w] = shared::avgpool_input_grad(dy + p * OHW, g, h, w);
    }, 8);
}

}  // namespace ann::cpu
