// examples/part2_conv2d.hpp and the part2_conv program: my_conv2d against a direct reference,
// ann's Conv2d and PyTorch (fixtures from tools/make_conv_fixtures.py) on all ten course files,
// and the program's handling of bad input.
#include <catch2/catch.hpp>

#include <cmath>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "ann/ann.hpp"
#include "ann/data/npy.hpp"
#include "part2_conv2d.hpp"

using namespace ann;
namespace fs = std::filesystem;

namespace {

std::string hw1(const std::string& f) { return std::string(ANN_SHARED_DATA) + "/hw1/" + f; }
std::string fixture(const std::string& f) { return std::string(ANN_TEST_FIXTURES) + "/" + f; }

// The definition, index by index on raw arrays: no views, no BLAS.
part2::Tensor4 reference_conv(const part2::Tensor4& x, const part2::Tensor4& k) {
    const std::size_t B = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
    const std::size_t O = k.shape()[0], kh = k.shape()[2], kw = k.shape()[3], OH = H - kh + 1, OW = W - kw + 1;
    part2::Tensor4 y = xt::zeros<double>({B, O, OH, OW});
    const double* xd = x.data();
    const double* kd = k.data();
    for (std::size_t b = 0; b < B; ++b)
        for (std::size_t o = 0; o < O; ++o)
            for (std::size_t i = 0; i < OH; ++i)
                for (std::size_t j = 0; j < OW; ++j) {
                    double s = 0;
                    for (std::size_t c = 0; c < C; ++c)
                        for (std::size_t u = 0; u < kh; ++u)
                            for (std::size_t v = 0; v < kw; ++v)
                                s += xd[((b * C + c) * H + i + u) * W + j + v] * kd[((o * C + c) * kh + u) * kw + v];
                    y(b, o, i, j) = s;
                }
    return y;
}

}  // namespace

TEST_CASE("part 2: my_conv2d has torch.conv2d's output shape and values on small cases", "[part2]") {
    part2::Tensor4 x = xt::zeros<double>({2, 3, 6, 7});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = std::sin(double(i));
    part2::Tensor4 k = xt::zeros<double>({4, 3, 2, 3});
    for (std::size_t i = 0; i < k.size(); ++i) k.data()[i] = std::cos(double(i));
    const part2::Tensor4 y = part2::my_conv2d(x, k);
    CHECK(y.shape() == std::array<std::size_t, 4>{2, 4, 5, 5});
    CHECK(xt::allclose(y, reference_conv(x, k), 0, 1e-12));
    // a 1x1 kernel of ones over one channel returns the input
    part2::Tensor4 one = xt::ones<double>({1, 1, 1, 1});
    part2::Tensor4 img = xt::zeros<double>({1, 1, 3, 3});
    img(0, 0, 1, 2) = 5;
    CHECK((part2::my_conv2d(img, one) == img));
    CHECK_THROWS_WITH(part2::my_conv2d(x, part2::Tensor4(xt::zeros<double>({4, 2, 2, 2}))), Catch::Contains("3 channels"));
    CHECK_THROWS_WITH(part2::my_conv2d(x, part2::Tensor4(xt::zeros<double>({1, 3, 7, 2}))), Catch::Contains("does not fit"));
}

TEST_CASE("part 2: on all ten course files my_conv2d equals the reference, ann::Conv2d and PyTorch", "[part2][data]") {
    const part2::Tensor4 k = data::read_npy(hw1("kernel.npy")).to_tensor<double>();
    const Tensor<double> torch0 = data::load_npy<double>(fixture("conv2d_torch_samples_0.npy"));
    const Tensor<double> moments = data::load_npy<double>(fixture("conv2d_torch_moments.npy"));
    REQUIRE(moments.shape() == std::vector<std::size_t>{10, 5, 8, 3});
    Conv2d<double> conv(1, 8, 4, 1, 0, false);
    std::copy(k.begin(), k.end(), conv.weight().value.begin());
    for (int f = 0; f < 10; ++f) {
        INFO("samples_" << f);
        const auto a = data::read_npy(hw1("samples_" + std::to_string(f) + ".npy"));
        a.expect(data::NpyType::u1, 4);
        const part2::Tensor4 x = a.to_tensor<double>();
        const part2::Tensor4 y = part2::my_conv2d(x, k);
        REQUIRE(y.shape() == std::array<std::size_t, 4>{5, 8, 25, 25});
        CHECK(xt::amax(xt::abs(y - reference_conv(x, k)))() <= 1e-9);
        const Tensor<double> xin = x;
        const Tensor<double>& lib = conv.forward(xin);
        CHECK(xt::amax(xt::abs(Tensor<double>(y) - lib))() <= 1e-9);
        // PyTorch: per (image, channel) sum, sum of squares and position-weighted sum
        for (std::size_t b = 0; b < 5; ++b)
            for (std::size_t o = 0; o < 8; ++o) {
                double s = 0, s2 = 0, sw = 0;
                for (std::size_t i = 0; i < 25; ++i)
                    for (std::size_t j = 0; j < 25; ++j) {
                        const double v = y(b, o, i, j);
                        s += v, s2 += v * v, sw += (1.0 + double(i * 25 + j)) * v;
                    }
                CHECK(std::fabs(s - moments(f, b, o, 0)) <= 1e-9 * std::max(1.0, std::fabs(moments(f, b, o, 0))));
                CHECK(std::fabs(s2 - moments(f, b, o, 1)) <= 1e-9 * std::max(1.0, std::fabs(moments(f, b, o, 1))));
                CHECK(std::fabs(sw - moments(f, b, o, 2)) <= 1e-9 * std::max(1.0, std::fabs(moments(f, b, o, 2))));
            }
        if (f == 0) {
            double worst = 0;
            for (std::size_t i = 0; i < torch0.size(); ++i) worst = std::max(worst, std::fabs(y.data()[i] - torch0.data()[i]));
            CHECK(worst <= 1e-9);
        }
    }
}

#ifdef ANN_PART2_CONV
namespace {

struct Run {
    int code;
    std::string err;
};

Run run_part2(const std::string& args, const fs::path& dir) {
    const std::string err = (dir / "stderr.txt").string();
    const std::string cmd = std::string(ANN_PART2_CONV) + " " + args + " --out " + (dir / "out").string() + " >/dev/null 2>" + err;
    const int status = std::system(cmd.c_str());
    std::ifstream in(err);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

void check_one_line(const Run& r, const std::string& file, const std::string& what) {
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.find(file) != std::string::npos);
    CHECK(r.err.find(what) != std::string::npos);
}

}  // namespace

TEST_CASE("part2_conv: writes out.npy equal to my_conv2d and a grid PNG", "[part2][program]") {
    const fs::path d = fs::temp_directory_path() / "ann_test_part2_ok";
    fs::remove_all(d);
    fs::create_directories(d);
    const Run r = run_part2("--digit 7", d);
    INFO(r.err);
    REQUIRE(r.code == 0);
    const Tensor<double> out = data::load_npy<double>((d / "out" / "out.npy").string());
    const part2::Tensor4 x = data::read_npy(hw1("samples_7.npy")).to_tensor<double>();
    const part2::Tensor4 k = data::read_npy(hw1("kernel.npy")).to_tensor<double>();
    CHECK((out == Tensor<double>(part2::my_conv2d(x, k))));
    CHECK(fs::file_size(d / "out" / "part2_grid.png") > 1000);
    fs::remove_all(d);
}

TEST_CASE("part2_conv: bad input gives a one-line error naming the file, exit code 2", "[part2][program]") {
    const fs::path d = fs::temp_directory_path() / "ann_test_part2_bad";
    fs::remove_all(d);
    fs::create_directories(d);
    const std::string kernel = hw1("kernel.npy");
    auto save = [&](const std::string& name, auto t) {
        const std::string p = (d / name).string();
        data::save_npy(p, t);
        return p;
    };
    const std::string missing = (d / "nope.npy").string();
    check_one_line(run_part2("--input " + missing, d), missing, "No such file");
    // wrong dtype: the float64 kernel as the input
    check_one_line(run_part2("--input " + kernel, d), kernel, "dtype uint8, got float64");
    check_one_line(run_part2("--input " + hw1("samples_1.npy") + " --kernel " + hw1("samples_2.npy"), d),
                   "samples_2.npy", "dtype float64, got uint8");
    // wrong rank
    const std::string rank3 = save("rank3.npy", Tensor<std::uint8_t>(xt::zeros<std::uint8_t>({5, 28, 28})));
    check_one_line(run_part2("--input " + rank3, d), rank3, "rank 4");
    // channel mismatch: a 2-channel kernel on 1-channel images
    const std::string k2 = save("k2.npy", Tensor<double>(xt::ones<double>({8, 2, 4, 4})));
    check_one_line(run_part2("--kernel " + k2, d), k2, "2 input channels");
    // kernel larger than the image
    const std::string tiny = save("tiny.npy", Tensor<std::uint8_t>(xt::zeros<std::uint8_t>({1, 1, 3, 3})));
    check_one_line(run_part2("--input " + tiny, d), kernel, "larger than the 3x3 images");
    // truncated file
    std::ifstream src(hw1("samples_0.npy"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(src)), std::istreambuf_iterator<char>());
    const std::string cut = (d / "cut.npy").string();
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    check_one_line(run_part2("--input " + cut, d), cut, "truncated");
    // garbage
    const std::string junk = (d / "junk.npy").string();
    std::ofstream(junk) << "hello";
    check_one_line(run_part2("--input " + junk, d), junk, "truncated");
    // bounded work: a 800 kB kernel of 100000 1x1 filters would ask for 15 GB of output
    const std::string wide = save("wide.npy", Tensor<double>(xt::ones<double>({100000, 1, 1, 1})));
    check_one_line(run_part2("--kernel " + wide, d), wide, "this program allows");
    // ... and a 4 MB image with a 23x23 kernel would unfold into 16 GB for the check
    const std::string big = save("big.npy", Tensor<std::uint8_t>(xt::zeros<std::uint8_t>({1, 1, 2000, 2000})));
    const std::string k23 = save("k23.npy", Tensor<double>(xt::ones<double>({1, 1, 23, 23})));
    check_one_line(run_part2("--input " + big + " --kernel " + k23, d), k23, "unfolded values per image");
    // the self-check fails on NaN and Inf, never prints a difference of 0
    Tensor<double> nan_kernel = xt::ones<double>({8, 1, 4, 4});
    nan_kernel(3, 0, 1, 1) = std::nan("");
    const std::string kn = save("nan.npy", nan_kernel);
    check_one_line(run_part2("--kernel " + kn, d), kn, "is nan (expected finite numbers)");
    const std::string kinf = save("huge.npy", Tensor<double>(xt::ones<double>({8, 1, 4, 4}) * 1e307));
    const Run overflow = run_part2("--kernel " + kinf, d);
    CHECK(overflow.code == 2);
    CHECK_THAT(overflow.err, Catch::Contains("self-check failed") && Catch::Contains("inf"));
    CHECK_FALSE(fs::exists(d / "out" / "out.npy"));
    fs::remove_all(d);
}
#endif
