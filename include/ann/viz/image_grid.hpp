#pragma once
// Image grids like torchvision.utils.make_grid: a batch (N, C, H, W) with C = 1 or 3 laid out
// `nrow` images per row with `padding` pixels of `pad_value` between and around them.
//
// Normalisation (make_grid's normalize / scale_each): values are mapped to [0, 1] by
//   Normalize::none    - as they are (then clipped, as imshow clips floats),
//   Normalize::global  - one min..max over the whole batch (or over the given `range`),
//   Normalize::each    - each image's own min..max.
// A constant image maps to 0, as in torchvision's norm_ip with a zero range (we use max(eps)).
#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "ann/core/error.hpp"
#include "ann/core/tensor.hpp"

namespace ann::viz {

enum class Normalize { none, global, each };

struct GridOptions {
    std::size_t nrow = 8;  // images per row
    std::size_t padding = 2;
    float pad_value = 0;
    Normalize normalize = Normalize::global;
    std::optional<std::pair<double, double>> range;  // fixed (low, high) for Normalize::global
};

// An RGB image, rows x cols x 3 floats in [0, 1].
struct RgbImage {
    int cols = 0, rows = 0;
    std::vector<float> rgb;
    const float* at(int x, int y) const { return &rgb[(static_cast<std::size_t>(y) * cols + x) * 3]; }
};

template <class T>
RgbImage make_grid(const Tensor<T>& batch, const GridOptions& o = {}) {
    if (batch.dimension() != 4 || (batch.shape()[1] != 1 && batch.shape()[1] != 3))
        fail("make_grid: expected a batch of shape (N, 1 or 3, H, W), got ", shape_str(batch.shape()));
    if (o.nrow == 0) fail("make_grid: nrow must be positive");
    const std::size_t N = batch.shape()[0], C = batch.shape()[1], H = batch.shape()[2], W = batch.shape()[3];
    if (N == 0 || H == 0 || W == 0) fail("make_grid: empty batch ", shape_str(batch.shape()));
    const std::size_t ncol = std::min(o.nrow, N), nrows = (N + o.nrow - 1) / o.nrow;
    const std::size_t cell_h = H + o.padding, cell_w = W + o.padding;
    RgbImage img;
    img.cols = static_cast<int>(ncol * cell_w + o.padding);
    img.rows = static_cast<int>(nrows * cell_h + o.padding);
    img.rgb.assign(static_cast<std::size_t>(img.cols) * img.rows * 3, o.pad_value);

    const T* d = batch.data();
    const std::size_t per = C * H * W;
    auto minmax = [&](std::size_t from, std::size_t count) {
        double lo = std::numeric_limits<double>::infinity(), hi = -lo;
        for (std::size_t i = from; i < from + count; ++i) {
            const double v = static_cast<double>(d[i]);
            if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
        }
        if (lo > hi) lo = 0, hi = 1;
        return std::pair<double, double>{lo, hi};
    };
    std::pair<double, double> global{0, 1};
    if (o.normalize == Normalize::global) global = o.range ? *o.range : minmax(0, N * per);

    for (std::size_t n = 0; n < N; ++n) {
        std::pair<double, double> r = o.normalize == Normalize::each ? minmax(n * per, per) : global;
        const double scale = o.normalize == Normalize::none ? 1.0 : 1.0 / std::max(r.second - r.first, 1e-5);
        const double offset = o.normalize == Normalize::none ? 0.0 : r.first;
        const std::size_t gy = n / o.nrow, gx = n % o.nrow;
        for (std::size_t y = 0; y < H; ++y)
            for (std::size_t x = 0; x < W; ++x)
                for (std::size_t c = 0; c < 3; ++c) {
                    const std::size_t src = n * per + (C == 1 ? 0 : c) * H * W + y * W + x;
                    const double v = std::clamp((static_cast<double>(d[src]) - offset) * scale, 0.0, 1.0);
                    const std::size_t oy = o.padding + gy * cell_h + y, ox = o.padding + gx * cell_w + x;
                    img.rgb[(oy * static_cast<std::size_t>(img.cols) + ox) * 3 + c] = static_cast<float>(v);
                }
    }
    return img;
}

}  // namespace ann::viz
