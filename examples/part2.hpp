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

// Returns the largest |my_conv2d - ann::Conv2d|.
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

    const part2::Tensor4 x = in.to_tensor<double>(), w = k.to_tensor<double>();
    const part2::Tensor4 y = part2::my_conv2d(x, w);

    ann::Conv2d<double> conv(w.shape()[1], w.shape()[0], w.shape()[2], 1, 0, false);
    std::copy(w.begin(), w.end(), conv.weight().value.begin());
    const ann::Tensor<double> xa = x;
    const auto& ref = conv.forward(xa);
    double maxdiff = 0;
    for (std::size_t i = 0; i < y.size(); ++i) maxdiff = std::max(maxdiff, std::fabs(y.data()[i] - ref.data()[i]));

    std::filesystem::create_directories(out);
    ann::data::save_npy(out + "/out.npy", ann::Tensor<double>(y));
    ann::viz::part2_grid(out + "/part2_grid.png", ann::Tensor<double>(y));
    std::printf("input %s %s, kernel %s %s -> out %s\n", input.c_str(), ann::shape_str(in.shape).c_str(),
                kernel.c_str(), ann::shape_str(k.shape).c_str(), ann::shape_str(y.shape()).c_str());
    std::printf("largest |my_conv2d - ann::Conv2d| = %.3g\n", maxdiff);
    std::printf("wrote %s/out.npy and %s/part2_grid.png\n", out.c_str(), out.c_str());
    return maxdiff;
}

}  // namespace part2
