// The small-map convolution kernel (backend/cpu/conv_small_avx512.hpp: vectors across 16 output
// channels) against the plain-loop reference, forward and backward-data, on the homework's small
// layers and odd shapes (channel counts that leave lanes empty, several column blocks, 1x1 to 7x7
// kernels), and its thread-count independence; and that the dispatch picks it where it should.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "ann/backend/cpu/conv2d.hpp"
#include "ann/backend/cpu/conv_reference.hpp"
#include "ann/core/rng.hpp"
#include "conv_test_util.hpp"

using namespace ann;
using conv_test::random_vec;

namespace {

struct Shape {
    int N, C, H, W, O, k;
};

// Max |got - want| over max(1, sum of |terms|)-style scale: float sums of R products differ from
// the double-accumulated reference by at most ~R * 2^-24 * sum|terms|; R <= 800 here.
void check_close(const std::vector<float>& got, const std::vector<double>& want, double tol) {
    REQUIRE(got.size() == want.size());
    double worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(double(got[i]) - want[i]));
    CHECK(worst <= tol);
}

}  // namespace

TEST_CASE("small-map kernel matches the reference, forward and backward-data", "[conv][small]") {
    if (!cpu::have_avx512()) {
        WARN("no AVX-512 on this CPU: the small-map kernel is not used here");
        return;
    }
    const Shape shapes[] = {
        {3, 8, 13, 13, 16, 7},  {2, 16, 12, 12, 16, 5}, {2, 16, 12, 12, 16, 3}, {2, 16, 10, 10, 16, 3},  // homework
        {2, 3, 9, 11, 17, 3},   {1, 1, 5, 5, 1, 1},     {2, 5, 14, 30, 32, 3},  {1, 16, 7, 7, 5, 7},
        {3, 2, 6, 4, 16, 2},    {1, 4, 20, 9, 16, 4}};
    Rng rng(21);
    for (const auto& s : shapes)
        for (bool with_bias : {true, false}) {
            INFO("N " << s.N << " C " << s.C << " " << s.H << "x" << s.W << " O " << s.O << " k " << s.k
                      << (with_bias ? " bias" : " no bias"));
            const cpu::ConvGeometry g{s.C, s.H, s.W, s.k, s.k, 1, 0};
            const auto x = random_vec(std::size_t(s.N) * s.C * s.H * s.W, rng);
            const auto w = random_vec(std::size_t(s.O) * g.rows(), rng);
            const auto b = random_vec(std::size_t(s.O), rng);
            const auto dy = random_vec(std::size_t(s.N) * s.O * g.cols(), rng);
            // References in double.
            std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end()), bd(b.begin(), b.end()),
                dyd(dy.begin(), dy.end()), yref(dy.size()), dxref(x.size());
            cpu::conv2d_forward_reference(xd.data(), wd.data(), with_bias ? bd.data() : nullptr, yref.data(), s.N, s.O, g);
            cpu::conv2d_backward_data_reference(dyd.data(), wd.data(), dxref.data(), s.N, s.O, g);
            const double tol_f = 2e-7 * (g.rows() + 1), tol_b = 2e-7 * (s.O * s.k * s.k + 1);

            cpu::ConvWorkspace<float> ws;
            std::vector<float> y(dy.size(), 99.f), dx(x.size(), 99.f);
            cpu::conv2d_small_forward_images(
                x.data(), w.data(), with_bias ? b.data() : nullptr, s.N, s.O, g, ws,
                [&](int, std::size_t n) { return y.data() + n * std::size_t(s.O) * g.cols(); },
                [](int, std::size_t, float*) {});
            check_close(y, yref, tol_f);
            cpu::conv2d_small_backward_data(dy.data(), w.data(), dx.data(), s.N, s.O, g, ws);
            check_close(dx, dxref, tol_b);
        }
}

TEST_CASE("small-map kernel gives the same bits for 1, 2 and 3 threads", "[conv][small][determinism]") {
    if (!cpu::have_avx512()) return;
    conv_test::KeepThreads keep;
    const cpu::ConvGeometry g{16, 12, 12, 4, 4, 1, 0};  // a 4x4 kernel: the other kernels are not built for it
    REQUIRE(cpu::conv_forward_uses_small<float>(g, 16));
    REQUIRE(cpu::conv_backward_data_uses_small<float>(g, 16));
    const auto one = conv_test::dispatch_bits(7, g, 16, 1);
    CHECK(conv_test::dispatch_bits(7, g, 16, 2) == one);
    CHECK(conv_test::dispatch_bits(7, g, 16, 3) == one);
}

TEST_CASE("the dispatch picks the small-map kernel where neither the row kernel nor Winograd is", "[conv][small]") {
    if (!cpu::have_avx512()) return;
    // The homework's small layers go to the row kernel or Winograd (test_conv_rows.cpp); this
    // kernel keeps the kernel sizes those are not built for (here 4x4 and 2x2).
    CHECK_FALSE(cpu::conv_forward_uses_small<float>({8, 13, 13, 7, 7, 1, 0}, 16));
    CHECK_FALSE(cpu::conv_forward_uses_small<float>({16, 12, 12, 5, 5, 1, 0}, 16));
    CHECK_FALSE(cpu::conv_backward_data_uses_small<float>({16, 12, 12, 5, 5, 1, 0}, 16));
    CHECK(cpu::conv_forward_uses_small<float>({8, 12, 12, 4, 4, 1, 0}, 16));
    CHECK(cpu::conv_backward_data_uses_small<float>({16, 10, 10, 2, 2, 1, 0}, 8));
    // Large maps, 8 output channels, double, padding: not.
    CHECK_FALSE(cpu::conv_forward_uses_small<float>({16, 30, 30, 5, 5, 1, 0}, 8));
    CHECK_FALSE(cpu::conv_forward_uses_small<float>({8, 28, 28, 5, 5, 1, 0}, 16));
    CHECK_FALSE(cpu::conv_forward_uses_small<double>({8, 13, 13, 7, 7, 1, 0}, 16));
    CHECK_FALSE(cpu::conv_forward_uses_small<float>({8, 13, 13, 7, 7, 1, 1}, 16));
    // The same bits through the dispatch as through the kernel itself (a 4x4 conv on 13x13).
    const cpu::ConvGeometry g{8, 13, 13, 4, 4, 1, 0};
    Rng rng(8);
    const auto x = random_vec(std::size_t(2) * 8 * 169, rng), w = random_vec(std::size_t(16) * g.rows(), rng);
    std::vector<float> a(std::size_t(2) * 16 * g.cols()), c(a.size());
    cpu::ConvWorkspace<float> ws;
    cpu::conv2d_forward<float>(x.data(), w.data(), nullptr, a.data(), 2, 16, g, ws);
    cpu::conv2d_small_forward_images(
        x.data(), w.data(), nullptr, 2, 16, g, ws, [&](int, std::size_t n) { return c.data() + n * 16 * g.cols(); },
        [](int, std::size_t, float*) {});
    CHECK(a == c);
}
