#pragma once
// Direct convolution by plain loops: the reference the fast paths are tested against, and the
// "direct" row of the kernel benchmarks. No tricks, so nothing clever to get wrong.
//   x is (N, C, H, W), w is (O, C, kh, kw), b is (O,) or null, y is (N, O, OH, OW).
#include <cstddef>

#include "ann/backend/cpu/im2col.hpp"

namespace ann::cpu {

// y = conv(x, w) + b, overwritten.
template <class T>
void conv2d_forward_reference(const T* x, const T* w, const T* b, T* y, int N, int O, const ConvGeometry& g) {
    const int OH = g.OH(), OW = g.OW();
    for (int n = 0; n < N; ++n)
        for (int o = 0; o < O; ++o)
            for (int oh = 0; oh < OH; ++oh)
                for (int ow = 0; ow < OW; ++ow) {
                    T acc = b ? b[o] : T(0);
                    for (int c = 0; c < g.C; ++c)
                        for (int i = 0; i < g.kh; ++i)
                            for (int j = 0; j < g.kw; ++j) {
                                const int h = oh * g.stride + i - g.pad, v = ow * g.stride + j - g.pad;
                                if (h < 0 || h >= g.H || v < 0 || v >= g.W) continue;
                                acc += w[((std::size_t(o) * g.C + c) * g.kh + i) * g.kw + j] *
                                       x[((std::size_t(n) * g.C + c) * g.H + h) * g.W + v];
                            }
                    y[((std::size_t(n) * O + o) * OH + oh) * OW + ow] = acc;
                }
}

// dx = dL/dx given dy = dL/dy, overwritten.
template <class T>
void conv2d_backward_data_reference(const T* dy, const T* w, T* dx, int N, int O, const ConvGeometry& g) {
    const int OH = g.OH(), OW = g.OW();
    for (std::size_t q = 0; q < std::size_t(N) * g.C * g.H * g.W; ++q) dx[q] = T(0);
    for (int n = 0; n < N; ++n)
        for (int o = 0; o < O; ++o)
            for (int oh = 0; oh < OH; ++oh)
                for (int ow = 0; ow < OW; ++ow) {
                    const T d = dy[((std::size_t(n) * O + o) * OH + oh) * OW + ow];
                    for (int c = 0; c < g.C; ++c)
                        for (int i = 0; i < g.kh; ++i)
                            for (int j = 0; j < g.kw; ++j) {
                                const int h = oh * g.stride + i - g.pad, v = ow * g.stride + j - g.pad;
                                if (h < 0 || h >= g.H || v < 0 || v >= g.W) continue;
                                dx[((std::size_t(n) * g.C + c) * g.H + h) * g.W + v] +=
                                    d * w[((std::size_t(o) * g.C + c) * g.kh + i) * g.kw + j];
                            }
                }
}

// dw += dL/dw and db += dL/db (db may be null): accumulated, like Parameter::grad.
template <class T>
void conv2d_backward_weights_reference(const T* x, const T* dy, T* dw, T* db, int N, int O, const ConvGeometry& g) {
    const int OH = g.OH(), OW = g.OW();
    for (int n = 0; n < N; ++n)
        for (int o = 0; o < O; ++o)
            for (int oh = 0; oh < OH; ++oh)
                for (int ow = 0; ow < OW; ++ow) {
                    const T d = dy[((std::size_t(n) * O + o) * OH + oh) * OW + ow];
                    if (db) db[o] += d;
                    for (int c = 0; c < g.C; ++c)
                        for (int i = 0; i < g.kh; ++i)
                            for (int j = 0; j < g.kw; ++j) {
                                const int h = oh * g.stride + i - g.pad, v = ow * g.stride + j - g.pad;
                                if (h < 0 || h >= g.H || v < 0 || v >= g.W) continue;
                                dw[((std::size_t(o) * g.C + c) * g.kh + i) * g.kw + j] +=
                                    d * x[((std::size_t(n) * g.C + c) * g.H + h) * g.W + v];
                            }
                }
}

}  // namespace ann::cpu
