// The execution shortcuts that must not change a single bit: evaluation's fused
// Conv2d -> activation -> MaxPool2d pass against the layers one by one, and the Linear layer's
// GEMMs split over the pool's threads (parallel_gemm.hpp) against one BLAS call and against a
// double reference; both for every thread count.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "ann/ann.hpp"
#include "ann/backend/cpu/maxpool.hpp"
#include "ann/backend/cpu/parallel_gemm.hpp"

using namespace ann;

namespace {

struct Threads {  // restores the thread count when a test ends
    int saved = cpu::num_threads();
    ~Threads() { cpu::set_num_threads(saved); }
};

template <class T>
Array<T> random_images(std::size_t n, std::size_t c, std::size_t h, std::size_t w, Rng& rng) {
    Array<T> x({n, c, h, w});
    for (auto& v : x) v = static_cast<T>(rng.uniform(-1, 1));
    return x;
}

template <class T>
std::vector<T> values(const Array<T>& a) {
    return std::vector<T>(a.begin(), a.end());
}

// Eval-mode outputs of m on x, fused and layer by layer.
template <class T>
std::pair<std::vector<T>, std::vector<T>> fused_and_plain(Sequential<T>& m, const Array<T>& x) {
    m.eval();
    m.fuse_in_eval(true);
    auto fused = values(m.forward(x));
    m.fuse_in_eval(false);
    auto plain = values(m.forward(x));
    m.fuse_in_eval(true);
    return {fused, plain};
}

template <class T>
void check_homework_models_fused() {
    Threads keep;
    for (const auto& name : {"cnn_3", "cnn_4", "cnn_5", "mlp_1"})
        for (auto act : {models::Activation::relu, models::Activation::sigmoid}) {
            INFO(name << (act == models::Activation::relu ? " relu" : " sigmoid"));
            Rng rng(11);
            auto m = models::homework<T>(name, act, rng);
            const auto x = random_images<T>(7, 3, 32, 32, rng);
            cpu::set_num_threads(1);
            const auto [fused1, plain1] = fused_and_plain(m, x);
            CHECK(fused1 == plain1);
            cpu::set_num_threads(2);
            const auto [fused2, plain2] = fused_and_plain(m, x);
            CHECK(fused2 == fused1);
            CHECK(plain2 == plain1);
            cpu::set_num_threads(3);
            CHECK(values(m.forward(x)) == fused1);
        }
}

}  // namespace

TEST_CASE("fused evaluation gives the layers' bits on the homework models (float)", "[fused]") {
    check_homework_models_fused<float>();
}
TEST_CASE("fused evaluation gives the layers' bits on the homework models (double)", "[fused]") {
    check_homework_models_fused<double>();
}

TEST_CASE("fused evaluation: every group shape, strides, padding, tanh, odd pools", "[fused]") {
    Threads keep;
    cpu::set_num_threads(2);
    Rng rng(5);
    Sequential<float> m;
    m.emplace<Conv2d<float>>(3, 6, 3, 2, 1, true, rng);  // strided, padded: the im2col kernel
    m.emplace<Tanh<float>>();
    m.emplace<MaxPool2d<float>>(3, 2);                   // overlapping windows
    m.emplace<Conv2d<float>>(6, 8, 3, 1, 0, false, rng);  // no bias, pool without activation
    m.emplace<MaxPool2d<float>>(2, 2);
    m.emplace<Conv2d<float>>(8, 16, 1, 1, 0, true, rng);  // pointwise, activation without pool
    m.emplace<ReLU<float>>();
    m.emplace<Conv2d<float>>(16, 5, 1, 1, 0, true, rng);  // alone: not a group
    m.emplace<Flatten<float>>();
    const auto x = random_images<float>(5, 3, 29, 31, rng);
    const auto [fused, plain] = fused_and_plain(m, x);
    REQUIRE(fused.size() == plain.size());
    CHECK(fused == plain);
}

TEST_CASE("fused evaluation passes NaN through like the layers", "[fused]") {
    Rng rng(2);
    Sequential<float> m;
    m.emplace<Conv2d<float>>(1, 2, 3, 1, 0, true, rng);
    m.emplace<Sigmoid<float>>();
    m.emplace<MaxPool2d<float>>(2, 2);
    auto x = random_images<float>(2, 1, 8, 8, rng);
    x(0, 0, 3, 4) = std::nanf("");
    const auto [fused, plain] = fused_and_plain(m, x);
    REQUIRE(fused.size() == plain.size());
    for (std::size_t i = 0; i < fused.size(); ++i) {
        INFO(i);
        CHECK(std::isnan(fused[i]) == std::isnan(plain[i]));
        if (!std::isnan(plain[i])) CHECK(fused[i] == plain[i]);
    }
}

TEST_CASE("after a fused forward, backward refuses; training mode works again", "[fused][errors]") {
    Rng rng(3);
    auto m = models::homework<float>("cnn_3", models::Activation::relu, rng);
    const auto x = random_images<float>(2, 3, 32, 32, rng);
    m.eval();
    const auto& y = m.forward(x);
    Array<float> dy(y.shape());
    CHECK_THROWS_WITH(m.backward(dy), Catch::Contains("backward after a forward in eval mode"));
    m.train();
    m.forward(x);
    CHECK_NOTHROW(m.backward(dy));
}

TEST_CASE("fused evaluation names the layer whose shape check fails", "[fused][errors]") {
    Rng rng(4);
    auto m = models::homework<float>("cnn_3", models::Activation::relu, rng);
    m.eval();
    const auto small = random_images<float>(1, 3, 8, 8, rng);  // 8 -> 6 -> 2 -> pool 1 -> 7x7 conv too big
    CHECK_THROWS_WITH(m.forward(small), Catch::Contains("Conv2d(8, 16, kernel_size=7)"));
    const auto wrong = random_images<float>(1, 4, 32, 32, rng);
    CHECK_THROWS_WITH(m.forward(wrong), Catch::Contains("Conv2d(3, 16, kernel_size=3)"));
    Sequential<float> p;
    p.emplace<Conv2d<float>>(1, 1, 3, 1, 0, true, rng);
    p.emplace<MaxPool2d<float>>(4, 4);
    p.eval();
    CHECK_THROWS_WITH(p.forward(random_images<float>(1, 1, 5, 5, rng)), Catch::Contains("MaxPool2d(kernel_size=4"));
}

TEST_CASE("Linear refuses backward after an eval-mode forward instead of using a stale batch", "[errors]") {
    Rng rng(6);
    Linear<float> lin(4, 3, true, rng);
    Array<float> x({2, 4});
    x.fill(0.5f);
    lin.forward(x);
    lin.eval();
    lin.forward(x);
    Array<float> dy({2, 3});
    CHECK_THROWS_WITH(lin.backward(dy), Catch::Contains("needs a forward in training mode"));
}

namespace {

template <class T>
void check_parallel_gemm() {
    Threads keep;
    struct Shape3 {
        int M, N, K;
    };
    // Linear's three GEMMs at the MLPs' sizes (forward, weight gradient, input gradient), ragged
    // block counts, and sizes under the threshold (one call).
    const Shape3 shapes[] = {{50, 32, 3072}, {32, 3072, 50}, {50, 3072, 32}, {100, 64, 32},
                             {13, 9, 3000},  {37, 1000, 11}, {7, 5, 3},      {1, 300, 900}};
    Rng rng(9);
    for (const auto& s : shapes)
        for (bool ta : {false, true})
            for (bool tb : {false, true}) {
                INFO("M " << s.M << " N " << s.N << " K " << s.K << " ta " << ta << " tb " << tb);
                std::vector<T> a(std::size_t(s.M) * s.K), b(std::size_t(s.K) * s.N), c0(std::size_t(s.M) * s.N);
                for (auto* v : {&a, &b, &c0})
                    for (auto& e : *v) e = static_cast<T>(rng.uniform(-1, 1));
                const int lda = ta ? s.M : s.K, ldb = tb ? s.K : s.N;
                auto run = [&](int threads) {
                    cpu::set_num_threads(threads);
                    auto c = c0;
                    cpu::parallel_gemm<T>(ta, tb, s.M, s.N, s.K, T(0.5), a.data(), lda, b.data(), ldb, T(1), c.data(),
                                          s.N);
                    return c;
                };
                const auto one = run(1);
                CHECK(run(2) == one);
                CHECK(run(3) == one);
                double worst = 0;
                for (int i = 0; i < s.M; ++i)
                    for (int j = 0; j < s.N; ++j) {
                        double ref = c0[std::size_t(i) * s.N + j], scale = std::abs(ref);
                        for (int k = 0; k < s.K; ++k) {
                            const double p = 0.5 * double(ta ? a[std::size_t(k) * lda + i] : a[std::size_t(i) * lda + k]) *
                                             double(tb ? b[std::size_t(j) * ldb + k] : b[std::size_t(k) * ldb + j]);
                            ref += p;
                            scale += std::abs(p);
                        }
                        worst = std::max(worst, std::abs(one[std::size_t(i) * s.N + j] - ref) / scale);
                    }
                // Sums of K products in T: the relative error against the sum of |terms| is at
                // most about K * eps (recursive summation); blocked BLAS sums do better.
                CHECK(worst <= (s.K + 2) * std::numeric_limits<T>::epsilon());
            }
}

}  // namespace

TEST_CASE("parallel_gemm: same bits for 1, 2 and 3 threads, within the summation bound (float)", "[gemm]") {
    check_parallel_gemm<float>();
}
TEST_CASE("parallel_gemm: same bits for 1, 2 and 3 threads, within the summation bound (double)", "[gemm]") {
    check_parallel_gemm<double>();
}

// The AVX-512 2x2/2 max pool against the scalar loop it replaces: the same values (bits, NaN
// payloads included) and the same argmax, with ties (the first element of the window wins),
// NaNs anywhere in a window (the last NaN wins), odd sizes, and rows wider than a vector block.
TEST_CASE("vector 2x2 max pool equals the scalar loop bit for bit", "[fast][maxpool]") {
#if ANN_HAVE_AVX512_KERNELS
    if (!cpu::have_avx512()) {
        WARN("no AVX-512 on this CPU: the vector max pool is not used here; skipped");
        return;
    }
    Rng rng(11);
    for (auto [H, W] : {std::pair{2, 2}, {3, 5}, {24, 24}, {28, 28}, {8, 8}, {13, 37}, {6, 64}, {5, 66}}) {
        std::vector<float> plane(std::size_t(H) * W);
        for (std::size_t i = 0; i < plane.size(); ++i) {
            const double r = rng.uniform(0, 1);
            // Few distinct values, so windows hold ties; NaNs with distinct payloads.
            // +0 and -0 tie too: the first of them must win, sign included.
            plane[i] = r < 0.1    ? std::nanf(std::to_string(i).c_str())
                       : r < 0.25 ? (i % 2 ? -0.f : 0.f)
                                  : float(std::floor(r * 4));
        }
        const std::size_t OH = H / 2, OW = W / 2, pad = 32;  // sentinels past the outputs
        std::vector<float> y_s(OH * OW), y_v(OH * OW + pad, -1.f);
        std::vector<std::uint32_t> a_s(OH * OW), a_v(OH * OW + pad, 7u);
        cpu::maxpool_plane<2, 2>(plane.data(), W, OH, OW, 2, 2, y_s.data(), a_s.data());
        cpu::maxpool_plane_2x2_avx512(plane.data(), W, OH, OW, y_v.data(), a_v.data());
        CAPTURE(H, W);
        CHECK(std::vector<std::uint32_t>(a_v.begin(), a_v.begin() + OH * OW) == a_s);
        CHECK(std::memcmp(y_v.data(), y_s.data(), y_s.size() * sizeof(float)) == 0);
        for (std::size_t i = OH * OW; i < y_v.size(); ++i) {
            CHECK(y_v[i] == -1.f);
            CHECK(a_v[i] == 7u);
        }
        std::vector<float> y_n(OH * OW);  // without argmax
        cpu::maxpool_plane_2x2_avx512(plane.data(), W, OH, OW, y_n.data(), nullptr);
        CHECK(std::memcmp(y_n.data(), y_s.data(), y_s.size() * sizeof(float)) == 0);
    }
#else
    WARN("AVX-512 kernels not compiled for this target; skipped");
#endif
}
