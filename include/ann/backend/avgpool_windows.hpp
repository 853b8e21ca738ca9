#pragma once
// Average pooling's windows, for torch.nn.AvgPool2d and torch.nn.AdaptiveAvgPool2d alike, with the
// per-element arithmetic that both backends run (so CPU and CUDA agree bit for bit):
//   AvgPool2d (k > 0), floor mode, count_include_pad=True (PyTorch's defaults): output o covers
//     input [o*s - pad, o*s - pad + k) clipped to the image; the divisor is the unclipped k*k
//     (PyTorch: the window clipped to the padded image, which in floor mode is all of it).
//   AdaptiveAvgPool2d (k == 0): output o of Out covers input [floor(o*In/Out), ceil((o+1)*In/Out))
//     and divides by that window's size.
// Rows and columns follow the same rule. Forward sums a window (rows, then columns, from 0) and
// divides once; backward gathers, for each input, dy/divisor of every window that holds it (in
// output order), so no two threads write the same element and the sum order is fixed.
#include <cstdint>

#include "ann/backend/host_device.hpp"

namespace ann {

struct AvgPoolGeometry {
    int H = 0, W = 0;    // input plane
    int OH = 0, OW = 0;  // output plane
    int k = 0, s = 0, pad = 0;  // k > 0: AvgPool2d's window, stride and padding; k == 0: adaptive

    // Input [lo, hi) of output o along an axis of In inputs and Out outputs, and the count the
    // window's sum is divided by along that axis.
    ANN_HOST_DEVICE void window(int o, int In, int Out, int& lo, int& hi, int& count) const {
        if (k > 0) {
            const int start = o * s - pad;
            const int end = start + k < In + pad ? start + k : In + pad;
            count = end - start;
            lo = start > 0 ? start : 0;
            hi = end < In ? end : In;
        } else {
            lo = int((std::int64_t(o) * In) / Out);
            hi = int((std::int64_t(o + 1) * In + Out - 1) / Out);
            count = hi - lo;
        }
    }
    // The outputs [first, last) whose windows hold input i along that axis (the inverse of window()).
    ANN_HOST_DEVICE void outputs_of(int i, int In, int Out, int& first, int& last) const {
        if (k > 0) {
            // o*s - pad <= i < o*s - pad + k
            const int a = i + pad - k;
            first = a < 0 ? 0 : a / s + 1;
            last = (i + pad) / s + 1;
        } else {
            first = int((std::int64_t(i) * Out) / In);
            last = int((std::int64_t(i + 1) * Out + In - 1) / In);
        }
        if (last > Out) last = Out;
    }
};

namespace shared {

// y[oh][ow] of one plane (x is that plane, H x W).
template <class T>
ANN_HOST_DEVICE T avgpool_output(const T* x, const AvgPoolGeometry& g, int oh, int ow) {
    int h0, h1, ch, w0, w1, cw;
    g.window(oh, g.H, g.OH, h0, h1, ch);
    g.window(ow, g.W, g.OW, w0, w1, cw);
    T sum = T(0);
    for (int h = h0; h < h1; ++h)
        for (int w = w0; w < w1; ++w) sum += x[std::int64_t(h) * g.W + w];
    return div_exact(sum, T(ch * cw));
}

// dx[h][w] of one plane (dy is that plane's gradient, OH x OW).
template <class T>
ANN_HOST_DEVICE T avgpool_input_grad(const T* dy, const AvgPoolGeometry& g, int h, int w) {
    int oh0, oh1, ow0, ow1;
    g.outputs_of(h, g.H, g.OH, oh0, oh1);
    g.outputs_of(w, g.W, g.OW, ow0, ow1);
    T acc = T(0);
    for (int oh = oh0; oh < oh1; ++oh) {
        int a, b, ch;
        g.window(oh, g.H, g.OH, a, b, ch);
        for (int ow = ow0; ow < ow1; ++ow) {
            int c, d, cw;
            g.window(ow, g.W, g.OW, c, d, cw);
            acc += div_exact(dy[std::int64_t(oh) * g.OW + ow], T(ch * cw));
        }
    }
    return acc;
}

}  // namespace shared
}  // namespace ann
