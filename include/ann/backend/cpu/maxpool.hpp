#pragma once
// Max pooling without padding on the CPU (see Backend::maxpool_forward for the contract).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ann/backend/cpu/maxpool_avx512.hpp"
#include "ann/backend/cpu/thread_pool.hpp"

namespace ann::cpu {

// One plane; K, S > 0 fix the window at compile time (the homework's 2x2/2), 0 = runtime.
// argmax may be null (evaluation: nothing routes gradients back).
template <std::size_t K, std::size_t S, class T>
void maxpool_plane(const T* plane, std::size_t W, std::size_t OH, std::size_t OW, std::size_t k_rt,
                   std::size_t s_rt, T* y, std::uint32_t* argmax) {
    const std::size_t k = K ? K : k_rt, s = S ? S : s_rt;
    for (std::size_t oh = 0; oh < OH; ++oh)
        for (std::size_t ow = 0; ow < OW; ++ow) {
            std::size_t best = (oh * s) * W + ow * s;
            for (std::size_t i = 0; i < k; ++i)
                for (std::size_t j = 0; j < k; ++j) {
                    const std::size_t idx = (oh * s + i) * W + ow * s + j;
                    // NaN propagates like PyTorch: a NaN wins the window.
                    if (plane[idx] > plane[best] || std::isnan(plane[idx])) best = idx;
                }
            y[oh * OW + ow] = plane[best];
            if (argmax) argmax[oh * OW + ow] = static_cast<std::uint32_t>(best);
        }
}

// Planes [lo, hi) on this thread (argmax null: not recorded).
template <class T>
void maxpool_planes(const T* x, T* y, std::uint32_t* argmax, std::size_t lo, std::size_t hi, int H, int W, int OH,
                    int OW, int k, int s) {
    const std::size_t HW = std::size_t(H) * W, OHW = std::size_t(OH) * OW;
    for (std::size_t p = lo; p < hi; ++p) {
        std::uint32_t* am = argmax ? argmax + p * OHW : nullptr;
#if ANN_HAVE_AVX512_KERNELS
        if constexpr (std::is_same_v<T, float>) {
            if (k == 2 && s == 2 && have_avx512()) {
                maxpool_plane_2x2_avx512(x + p * HW, std::size_t(W), std::size_t(OH), std::size_t(OW), y + p * OHW, am);
                continue;
            }
        }
#endif
        if (k == 2 && s == 2)
            maxpool_plane<2, 2>(x + p * HW, W, OH, OW, 2, 2, y + p * OHW, am);
        else
            maxpool_plane<0, 0>(x + p * HW, W, OH, OW, k, s, y + p * OHW, am);
    }
}

template <class T>
void maxpool_forward(const T* x, T* y, std::uint32_t* argmax, std::size_t planes, int H, int W, int OH, int OW,
                     int k, int s) {
    // Planes are independent: split them over the pool's threads.
    parallel_for(planes, [&](std::size_t lo, std::size_t hi) {
        maxpool_planes(x, y, argmax, lo, hi, H, W, OH, OW, k, s);
    }, 8);
}

template <class T>
void maxpool_backward(const T* dy, const std::uint32_t* argmax, T* dx, std::size_t planes, int H, int W, int OH,
                      int OW) {
    const std::size_t HW = std::size_t(H) * W, OHW = std::size_t(OH) * OW;
    parallel_for(planes, [&](std::size_t lo, std::size_t hi) {
        std::fill(dx + lo * HW, dx + hi * HW, T(0));
        for (std::size_t p = lo; p < hi; ++p) {
            T* dxp = dx + p * HW;
            const T* dyp = dy + p * OHW;
            const std::uint32_t* am = argmax + p * OHW;
            for (std::size_t o = 0; o < OHW; ++o) dxp[am[o]] += dyp[o];
        }
    }, 8);
}

}  // namespace ann::cpu
