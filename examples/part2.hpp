#pragma once
// Homework part 2 as a function, shared by the part2_conv program and the homework driver:
// reads samples_X.npy (uint8, (batch, 1, 28, 28)) and kernel.npy (float64, (8, 1, 4, 4)), runs
// my_conv2d, writes out.npy and the course's part2Plots grid, and checks the result against
// ann's Conv2d on the same data.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "ann/data/npy.hpp"
#include "ann/layers/conv2d.hpp"
#include "ann/viz/homework.hpp"
#include "cli.hpp"
#include "part2_conv2d.hpp"

namespace part2 {

// $ANN_SHARED_DATA/hw1, else ../shared/data/hw1 next to the repository.
inline std::string default_data_dir() {
    if (const char* env = std::getenv("ANN_SHARED_DATA"); env && *env) return std::string(env) + "/hw1";
    return std::string(ANN_REPO_ROOT) + "/../shared/data/hw1";
}

struct Options {
    std::string data_dir = default_data_dir();
    int digit = 0;
    std::string input, kernel;  // empty: DATA/samples_<digit>.npy and DATA/kernel.npy
    std::string out = "results/part2";
};

constexpr double kMaxOutputs = 1 << 22;  // 32 MB of doubles per copy
constexpr double kMaxMacs = 4e9;         // seconds, not hours
constexpr double kMaxColumns = 1 << 24;  // 128 MB of doubles for the check's per-image unfolding

// Returns the largest |my_conv2d - ann::Conv2d|; throws if the two disagree or are not finite.
inline double run(const Options& o) {
    const std::string input = o.input.empty() ? o.data_dir + "/samples_" + std::to_string(o.digit) + ".npy" : o.input;
    const std::string kernel = o.kernel.empty() ? o.data_dir + "/kernel.npy" : o.kernel;
    const std::string& out = o.out;
    const auto in = ann::data::read_npy(input);
    in.expect(ann::data::NpyType::u1, 4, "input images (batch, in_ch, H, W)");
    const auto k = ann::data::read_npy(kernel);
    k.expect(ann::data::NpyType::f8, 4, "a kernel (out_ch, in_ch, kh, kw)");
    if (in.shape[1] != k.shape[1])
        ann::fail(kernel, ": kernel expects ", k.shape[1], " input channels, but ", input, " has ", in.shape[1],
                  " (shape ", ann::shape_str(in.shape), ")");
    if (k.shape[2] > in.shape[2] || k.shape[3] > in.shape[3] || k.shape[2] == 0 || k.shape[3] == 0)
        ann::fail(kernel, ": kernel ", k.shape[2], "x", k.shape[3], " is larger than the ", in.shape[2], "x",
                  in.shape[3], " images of ", input, " (expected a kernel no larger than the image)");
    if (k.shape[2] != k.shape[3])
        ann::fail(kernel, ": kernel ", k.shape[2], "x", k.shape[3], " is not square (ann's Conv2d, used for the check, expects kh == kw)");
    if (in.size() == 0 || k.size() == 0) ann::fail(input, ": empty input or kernel");
    // Bounded work before anything is allocated: the course's data needs 25,000 outputs and
    // 400,000 multiply-adds; a crafted kernel of under 1 MB could ask for 15 GB.
    const std::size_t oh = in.shape[2] - k.shape[2] + 1, ow = in.shape[3] - k.shape[3] + 1;
    const double outputs = double(in.shape[0]) * double(k.shape[0]) * double(oh) * double(ow);
    const double macs = outputs * double(k.shape[1]) * double(k.shape[2]) * double(k.shape[3]);
    // ann::Conv2d, the check, unfolds one image at a time into (C*kh*kw) x (OH*OW) columns.
    const double columns = double(k.shape[1]) * double(k.shape[2]) * double(k.shape[3]) * double(oh) * double(ow);
    if (outputs > kMaxOutputs || macs > kMaxMacs || columns > kMaxColumns)
        ann::fail(kernel, ": with ", input, " ", ann::shape_str(in.shape), " this kernel ", ann::shape_str(k.shape),
                  " gives ", outputs, " outputs, ", macs, " multiply-adds and ", columns,
                  " unfolded values per image, more than the ", kMaxOutputs, ", ", kMaxMacs, " and ", kMaxColumns,
                  " this program allows");

    const part2::Tensor4 x = in.to_tensor<double>(), w = k.to_tensor<double>();
    for (std::size_t i = 0; i < w.size(); ++i)
        if (!std::isfinite(w.data()[i]))
            ann::fail(kernel, ": element ", i, " is ", w.data()[i], " (expected finite numbers)");
    const part2::Tensor4 y = part2::my_conv2d(x, w);

    ann::Conv2d<double> conv(w.shape()[1], w.shape()[0], w.shape()[2], 1, 0, false);
    std::copy(w.begin(), w.end(), conv.weight().value.begin());
    const ann::Tensor<double> xa = x;
    const auto& ref = conv.forward(xa);
    // The self-check: NaN or Inf anywhere is a failure, never a difference of 0 (std::max
    // would drop a NaN).
    double maxdiff = 0, scale = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
        const double d = std::fabs(y.data()[i] - ref.data()[i]);
        if (!std::isfinite(y.data()[i]) || !std::isfinite(d))
            ann::fail("self-check failed: my_conv2d output ", i, " is ", y.data()[i], " (ann::Conv2d: ", ref.data()[i],
                      "); nothing written");
        maxdiff = std::max(maxdiff, d);
        scale = std::max(scale, std::fabs(ref.data()[i]));
    }
    // Both sum the same products in double, in another order: a few ulps of the largest output.
    const double tol = 1e-12 * (1 + scale) * double(k.shape[1] * k.shape[2] * k.shape[3]);
    if (!(maxdiff <= tol))
        ann::fail("self-check failed: largest |my_conv2d - ann::Conv2d| = ", maxdiff, ", more than ", tol,
                  "; nothing written");

    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec) ann::fail(out, ": cannot create the output folder (", ec.message(), ")");
    cli::remove_stale(out);
    ann::data::save_npy(out + "/out.npy", ann::Tensor<double>(y));
    ann::viz::part2_grid(out + "/part2_grid.png", ann::Tensor<double>(y));
    std::printf("input %s %s, kernel %s %s -> out %s\n", input.c_str(), ann::shape_str(in.shape).c_str(),
                kernel.c_str(), ann::shape_str(k.shape).c_str(), ann::shape_str(y.shape()).c_str());
    std::printf("largest |my_conv2d - ann::Conv2d| = %.3g\n", maxdiff);
    std::printf("wrote %s/out.npy and %s/part2_grid.png\n", out.c_str(), out.c_str());
    return maxdiff;
}

}  // namespace part2
