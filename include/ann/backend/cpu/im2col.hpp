#pragma once
// im2col / col2im for one image, so a convolution becomes one GEMM.
//   x is (C, H, W); col is (C*kh*kw, OH*OW), row r = (c, i, j) holds x[c, oh*s+i-p, ow*s+j-p]
//   over all output positions (zero where that falls in the padding).
// col2im is the adjoint: it ADDS each column entry back to the pixel it came from, which is
// exactly the gradient of im2col. Raw pointers: views in this loop cost 4x (see GUIDE).
// The valid output range of each kernel column is computed once per row, so the inner loops
// are branch-free copies (contiguous when stride is 1) that the compiler vectorises.
#include <algorithm>
#include <cstddef>

#include "ann/backend/backend.hpp"

namespace ann::cpu {

using ann::ConvGeometry;  // backend/backend.hpp

namespace detail {
// Output columns ow whose input column ow*s + j - p lies in [0, W): [lo, hi).
inline void valid_cols(const ConvGeometry& g, int j, int OW, int& lo, int& hi) {
    const int first = g.pad - j;  // ow*s >= first
    lo = first <= 0 ? 0 : (first + g.stride - 1) / g.stride;
    const int last = g.W + g.pad - j;  // ow*s < last
    hi = last <= 0 ? 0 : std::min(OW, (last + g.stride - 1) / g.stride);
    lo = std::min(lo, hi);
}
}  // namespace detail

template <class T>
void im2col(const T* x, const ConvGeometry& g, T* col) {
    const int OH = g.OH(), OW = g.OW(), s = g.stride;
    for (int c = 0; c < g.C; ++c)
        for (int i = 0; i < g.kh; ++i)
            for (int j = 0; j < g.kw; ++j) {
                int lo, hi;
                detail::valid_cols(g, j, OW, lo, hi);
                T* out = col + (static_cast<std::size_t>((c * g.kh + i) * g.kw + j) * OH * OW);
                const T* plane = x + static_cast<std::size_t>(c) * g.H * g.W;
                for (int oh = 0; oh < OH; ++oh) {
                    const int h = oh * s + i - g.pad;
                    T* row = out + static_cast<std::size_t>(oh) * OW;
                    if (h < 0 || h >= g.H) {
                        std::fill(row, row + OW, T(0));
                        continue;
                    }
                    const T* src = plane + static_cast<std::size_t>(h) * g.W + (j - g.pad);
                    std::fill(row, row + lo, T(0));
                    if (s == 1)
                        std::copy(src + lo, src + hi, row + lo);
                    else
                        for (int ow = lo; ow < hi; ++ow) row[ow] = src[ow * s];
                    std::fill(row + hi, row + OW, T(0));
                }
            }
}

template <class T>
void col2im_add(const T* col, const ConvGeometry& g, T* x) {
    const int OH = g.OH(), OW = g.OW(), s = g.stride;
    for (int c = 0; c < g.C; ++c)
        for (int i = 0; i < g.kh; ++i)
            for (int j = 0; j < g.kw; ++j) {
                int lo, hi;
                detail::valid_cols(g, j, OW, lo, hi);
                const T* in = col + (static_cast<std::size_t>((c * g.kh + i) * g.kw + j) * OH * OW);
                T* plane = x + static_cast<std::size_t>(c) * g.H * g.W;
                for (int oh = 0; oh < OH; ++oh) {
                    const int h = oh * s + i - g.pad;
                    if (h < 0 || h >= g.H) continue;
                    const T* row = in + static_cast<std::size_t>(oh) * OW;
                    T* dst = plane + static_cast<std::size_t>(h) * g.W + (j - g.pad);
                    if (s == 1)
                        for (int ow = lo; ow < hi; ++ow) dst[ow] += row[ow];
                    else
                        for (int ow = lo; ow < hi; ++ow) dst[ow * s] += row[ow];
                }
            }
}

// dy (O, OH, OW) zero-padded by k-1 on every side into pad (O, OH+2(kh-1), OW+2(kw-1)): the input
// of backward-data as a full correlation, dx = conv(pad, w flipped, channels swapped), which the
// direct, Winograd and small-map kernels compute with their forward.
template <class T>
void pad_for_full_correlation(const T* dy, int O, int OH, int OW, int kh, int kw, T* pad) {
    const int Hp = OH + 2 * (kh - 1), Wp = OW + 2 * (kw - 1);
    std::fill(pad, pad + std::size_t(O) * Hp * Wp, T(0));
    for (int o = 0; o < O; ++o)
        for (int oh = 0; oh < OH; ++oh)
            std::copy(dy + (std::size_t(o) * OH + oh) * OW, dy + (std::size_t(o) * OH + oh + 1) * OW,
                      pad + (std::size_t(o) * Hp + oh + kh - 1) * Wp + (kw - 1));
}

}  // namespace ann::cpu
