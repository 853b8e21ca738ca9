#pragma once
// Homework part 2: my_conv2d, torch.conv2d's forward with its defaults (no padding, stride 1,
// no bias), written plainly with xtensor as one would with NumPy:
//   input  is (batch, in_ch, H, W), kernel is (out_ch, in_ch, kh, kw)
//   output is (batch, out_ch, H - kh + 1, W - kw + 1)
//   out[b, o, i, j] = sum_{c, u, v} input[b, c, i + u, j + v] * kernel[o, c, u, v]
// (cross-correlation, as in every deep learning library).
#include <xtensor/xtensor.hpp>
#include <xtensor/xview.hpp>

#include "ann/core/error.hpp"

namespace part2 {

using Tensor4 = xt::xtensor<double, 4>;

inline Tensor4 my_conv2d(const Tensor4& input, const Tensor4& kernel) {
    const auto& is = input.shape();
    const auto& ks = kernel.shape();
    if (is[1] != ks[1])
        ann::fail("my_conv2d: input has ", is[1], " channels but the kernel expects ", ks[1],
                  " (input ", ann::shape_str(is), ", kernel ", ann::shape_str(ks), ")");
    if (ks[2] > is[2] || ks[3] > is[3] || ks[2] == 0 || ks[3] == 0)
        ann::fail("my_conv2d: kernel ", ks[2], "x", ks[3], " does not fit in the ", is[2], "x", is[3], " input");
    const std::size_t B = is[0], O = ks[0], kh = ks[2], kw = ks[3];
    const std::size_t OH = is[2] - kh + 1, OW = is[3] - kw + 1;
    Tensor4 out = xt::zeros<double>({B, O, OH, OW});
    for (std::size_t b = 0; b < B; ++b)
        for (std::size_t o = 0; o < O; ++o)
            for (std::size_t i = 0; i < OH; ++i)
                for (std::size_t j = 0; j < OW; ++j) {
                    // the window under the kernel, times the kernel, summed
                    auto window = xt::view(input, b, xt::all(), xt::range(i, i + kh), xt::range(j, j + kw));
                    out(b, o, i, j) = xt::sum(window * xt::view(kernel, o))();
                }
    return out;
}

}  // namespace part2
