#pragma once
// im2col / col2im for one image, so a convolution becomes one GEMM.
//   x is (C, H, W); col is (C*kh*kw, OH*OW), row r = (c, i, j) holds x[c, oh*s+i-p, ow*s+j-p]
//   over all output positions (zero where that falls in the padding).
// col2im is the adjoint: it ADDS each column entry back to the pixel it came from, which is
// exactly the gradient of im2col. Raw pointers: views in this loop cost 4x (see GUIDE).
#include <cstddef>

namespace ann::cpu {

struct ConvGeometry {
    int C, H, W;       // input channels and size
    int kh, kw;        // kernel size
    int stride, pad;   // the same for both axes
    int OH() const { return (H + 2 * pad - kh) / stride + 1; }
    int OW() const { return (W + 2 * pad - kw) / stride + 1; }
    int rows() const { return C * kh * kw; }
    int cols() const { return OH() * OW(); }
};

template <class T>
void im2col(const T* x, const ConvGeometry& g, T* col) {
    const int OH = g.OH(), OW = g.OW();
    for (int c = 0; c < g.C; ++c)
        for (int i = 0; i < g.kh; ++i)
            for (int j = 0; j < g.kw; ++j) {
                T* out = col + (static_cast<std::size_t>((c * g.kh + i) * g.kw + j) * OH * OW);
                const T* plane = x + static_cast<std::size_t>(c) * g.H * g.W;
                for (int oh = 0; oh < OH; ++oh) {
                    const int h = oh * g.stride + i - g.pad;
                    T* row = out + static_cast<std::size_t>(oh) * OW;
                    if (h < 0 || h >= g.H) {
                        for (int ow = 0; ow < OW; ++ow) row[ow] = T(0);
                        continue;
                    }
                    const T* src = plane + static_cast<std::size_t>(h) * g.W;
                    if (g.stride == 1 && g.pad == 0) {
                        for (int ow = 0; ow < OW; ++ow) row[ow] = src[ow + j];
                    } else {
                        for (int ow = 0; ow < OW; ++ow) {
                            const int w = ow * g.stride + j - g.pad;
                            row[ow] = (w >= 0 && w < g.W) ? src[w] : T(0);
                        }
                    }
                }
            }
}

template <class T>
void col2im_add(const T* col, const ConvGeometry& g, T* x) {
    const int OH = g.OH(), OW = g.OW();
    for (int c = 0; c < g.C; ++c)
        for (int i = 0; i < g.kh; ++i)
            for (int j = 0; j < g.kw; ++j) {
                const T* in = col + (static_cast<std::size_t>((c * g.kh + i) * g.kw + j) * OH * OW);
                T* plane = x + static_cast<std::size_t>(c) * g.H * g.W;
                for (int oh = 0; oh < OH; ++oh) {
                    const int h = oh * g.stride + i - g.pad;
                    if (h < 0 || h >= g.H) continue;
                    const T* row = in + static_cast<std::size_t>(oh) * OW;
                    T* dst = plane + static_cast<std::size_t>(h) * g.W;
                    for (int ow = 0; ow < OW; ++ow) {
                        const int w = ow * g.stride + j - g.pad;
                        if (w >= 0 && w < g.W) dst[w] += row[ow];
                    }
                }
            }
}

}  // namespace ann::cpu
