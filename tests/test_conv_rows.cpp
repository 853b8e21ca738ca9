// The row kernel (backend/cpu/conv_rows_avx512.hpp: one output row per register block, vectors
// across 8 or 16 channels, each input value broadcast once for every tap that reads it) against
// the plain-loop reference in double, forward and backward-data: the homework's small layers and
// odd shapes (8 and 16 lanes, several vectors of channels, 1 to 16 output columns, rows that do
// not fill the last block, kh != kw, maps no taller than the kernel); its thread-count
// independence; and where the dispatch picks it.
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
    int N, C, H, W, O, kh, kw;
};

// Each output is a float sum of R products (R = C*kh*kw forward, O*kh*kw backward-data) of terms
// in [-1, 1], accumulated by FMAs: |error| <= R * 2^-24 * sum|terms| <= R^2 * 2^-24 (+ the bias).
// The check uses 2^-24 * (R + 1) * sum of the |terms| of that output, computed in double.
void check_close(const std::vector<float>& got, const std::vector<double>& want, const std::vector<double>& scale,
                 int R) {
    REQUIRE(got.size() == want.size());
    double worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        const double bound = std::ldexp(1.0, -24) * (R + 1) * (scale[i] + 1);
        worst = std::max(worst, std::abs(double(got[i]) - want[i]) / bound);
    }
    INFO("worst error / bound " << worst);
    CHECK(worst <= 1.0);
}

std::vector<double> absd(const std::vector<float>& v) {
    std::vector<double> a(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) a[i] = std::abs(double(v[i]));
    return a;
}

}  // namespace

TEST_CASE("row kernel matches the reference, forward and backward-data", "[conv][rows]") {
    if (!cpu::have_avx512()) {
        WARN("no AVX-512 (F, VL, DQ, BW) on this CPU: the row kernel is not used here");
        return;
    }
    const Shape shapes[] = {
        // the homework's small layers: cnn_3's third, cnn_4's fourth, cnn_5's fifth and sixth
        {3, 8, 13, 13, 16, 7, 7}, {2, 16, 12, 12, 16, 5, 5}, {2, 16, 12, 12, 16, 3, 3}, {2, 16, 10, 10, 8, 3, 3},
        // 8 lanes both ways, 24 channels (3 vectors of 8), 32 (2 of 16)
        {2, 8, 9, 11, 8, 3, 3}, {1, 24, 7, 9, 24, 5, 5}, {2, 32, 8, 8, 32, 3, 3},
        // widest blocks (16 output columns forward; 16-wide dx backward), one column, one row
        {1, 8, 18, 18, 16, 3, 3}, {1, 16, 16, 16, 8, 7, 7}, {1, 8, 4, 3, 8, 3, 3}, {1, 16, 3, 8, 16, 3, 3},
        // rows that leave a partial block (3, 2 and 1 rows per block), kh != kw, kh > 1 rows of dy
        {2, 8, 11, 7, 16, 2, 5}, {1, 16, 6, 14, 8, 4, 3}, {1, 8, 7, 7, 8, 7, 7}, {2, 16, 20, 5, 16, 1, 5}};
    Rng rng(31);
    for (const auto& s : shapes)
        for (bool with_bias : {true, false}) {
            INFO("N " << s.N << " C " << s.C << " " << s.H << "x" << s.W << " O " << s.O << " k " << s.kh << "x"
                      << s.kw << (with_bias ? " bias" : " no bias"));
            const cpu::ConvGeometry g{s.C, s.H, s.W, s.kh, s.kw, 1, 0};
            const auto x = random_vec(std::size_t(s.N) * s.C * s.H * s.W, rng);
            const auto w = random_vec(std::size_t(s.O) * g.rows(), rng);
            const auto b = random_vec(std::size_t(s.O), rng);
            const auto dy = random_vec(std::size_t(s.N) * s.O * g.cols(), rng);
            std::vector<double> xd(x.begin(), x.end()), wd(w.begin(), w.end()), bd(b.begin(), b.end()),
                dyd(dy.begin(), dy.end()), yref(dy.size()), dxref(x.size()), ysc(dy.size()), dxsc(x.size());
            cpu::conv2d_forward_reference(xd.data(), wd.data(), with_bias ? bd.data() : nullptr, yref.data(), s.N,
                                          s.O, g);
            cpu::conv2d_backward_data_reference(dyd.data(), wd.data(), dxref.data(), s.N, s.O, g);
            // the sums of |terms|: the same convolutions of |x|, |w|, |dy|
            const auto xa = absd(x), wa = absd(w), dya = absd(dy);
            cpu::conv2d_forward_reference<double>(xa.data(), wa.data(), nullptr, ysc.data(), s.N, s.O, g);
            cpu::conv2d_backward_data_reference(dya.data(), wa.data(), dxsc.data(), s.N, s.O, g);

            cpu::ConvWorkspace<float> ws;
            std::vector<float> y(dy.size(), 99.f), dx(x.size(), 99.f);
            if (cpu::conv_rows_applies<float>(g, s.O, g.OW())) {
                cpu::conv2d_rows_forward_images(
                    x.data(), w.data(), with_bias ? b.data() : nullptr, s.N, s.O, g, ws,
                    [&](int, std::size_t n) { return y.data() + n * std::size_t(s.O) * g.cols(); },
                    [](int, std::size_t, float*) {});
                check_close(y, yref, ysc, int(g.rows()));
            }
            if (cpu::conv_rows_applies<float>(g, s.C, s.W)) {
                cpu::conv2d_rows_backward_data(dy.data(), w.data(), dx.data(), s.N, s.O, g, ws);
                check_close(dx, dxref, dxsc, s.O * s.kh * s.kw);
            }
        }
}

TEST_CASE("row kernel applies where it is built for and nowhere else", "[conv][rows]") {
    if (!cpu::have_avx512()) return;
    const cpu::ConvGeometry k3{16, 12, 12, 3, 3, 1, 0};
    CHECK(cpu::conv_rows_applies<float>(k3, 16, 10));
    CHECK(cpu::conv_rows_applies<float>(k3, 8, 16));
    CHECK_FALSE(cpu::conv_rows_applies<float>(k3, 12, 10));   // 12 channels fill no vector
    CHECK_FALSE(cpu::conv_rows_applies<float>(k3, 16, 17));   // wider than a block
    CHECK_FALSE(cpu::conv_rows_applies<double>(k3, 16, 10));  // float only
    CHECK_FALSE(cpu::conv_rows_applies<float>({16, 12, 12, 4, 4, 1, 0}, 16, 9));  // kw 4
    CHECK_FALSE(cpu::conv_rows_applies<float>({16, 12, 12, 3, 3, 2, 0}, 16, 5));  // stride 2
    CHECK_FALSE(cpu::conv_rows_applies<float>({16, 12, 12, 3, 3, 1, 1}, 16, 12)); // padding
}

TEST_CASE("row kernel gives the same bits for 1, 2 and 3 threads", "[conv][rows][determinism]") {
    if (!cpu::have_avx512()) return;
    conv_test::KeepThreads keep;
    const cpu::ConvGeometry g{8, 13, 13, 7, 7, 1, 0};  // cnn_3's third conv
    REQUIRE(cpu::conv_forward_uses_rows<float>(g, 16));
    REQUIRE(cpu::conv_backward_data_uses_rows<float>(g, 16));
    const auto one = conv_test::dispatch_bits(7, g, 16, 1);
    CHECK(conv_test::dispatch_bits(7, g, 16, 2) == one);
    CHECK(conv_test::dispatch_bits(7, g, 16, 3) == one);
}

TEST_CASE("the dispatch sends the homework's small layers to the row kernel or Winograd", "[conv][rows]") {
    if (!cpu::have_avx512()) return;
    const cpu::ConvGeometry c3_3{8, 13, 13, 7, 7, 1, 0}, c4_4{16, 12, 12, 5, 5, 1, 0}, c5_5{16, 12, 12, 3, 3, 1, 0},
        c5_6{16, 10, 10, 3, 3, 1, 0};
    // forward: the row kernel, but F(2x2,5x5) for cnn_4's 16->16 5x5 (faster there)
    CHECK(cpu::conv_forward_uses_rows<float>(c3_3, 16));
    CHECK(cpu::conv_forward_uses_rows<float>(c5_5, 16));
    CHECK(cpu::conv_forward_uses_rows<float>(c5_6, 8));
    CHECK_FALSE(cpu::conv_forward_uses_rows<float>(c4_4, 16));
    CHECK(cpu::conv_forward_uses_winograd<float>(c4_4, 16));
    // backward-data: the row kernel for all four (no zero border multiplied)
    for (const auto& [g, O] : {std::pair{c3_3, 16}, std::pair{c4_4, 16}, std::pair{c5_5, 16}, std::pair{c5_6, 8}}) {
        CHECK(cpu::conv_backward_data_uses_rows<float>(g, O));
        CHECK_FALSE(cpu::conv_backward_data_uses_winograd<float>(g, O));
        CHECK_FALSE(cpu::conv_backward_data_uses_small<float>(g, O));
    }
    // wide maps with 16 channels each side: Winograd
    CHECK_FALSE(cpu::conv_forward_uses_rows<float>({16, 16, 16, 3, 3, 1, 0}, 16));
    CHECK_FALSE(cpu::conv_backward_data_uses_rows<float>({16, 16, 16, 3, 3, 1, 0}, 16));
    // The same bits through the dispatch as through the kernel itself (cnn_3's third conv).
    Rng rng(8);
    const auto x = random_vec(std::size_t(2) * 8 * 169, rng), w = random_vec(std::size_t(16) * c3_3.rows(), rng);
    std::vector<float> a(std::size_t(2) * 16 * c3_3.cols()), c(a.size());
    cpu::ConvWorkspace<float> ws;
    cpu::conv2d_forward<float>(x.data(), w.data(), nullptr, a.data(), 2, 16, c3_3, ws);
    cpu::conv2d_rows_forward_images(
        x.data(), w.data(), nullptr, 2, 16, c3_3, ws, [&](int, std::size_t n) { return c.data() + n * 16 * c3_3.cols(); },
        [](int, std::size_t, float*) {});
    CHECK(a == c);
}
