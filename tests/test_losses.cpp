// Losses: finite-difference checks of backward, and numerical stability.
#include <catch2/catch.hpp>

#include <cmath>

#include "ann/ann.hpp"
#include "ann/testing/gradcheck.hpp"

using namespace ann;

TEST_CASE("CrossEntropyLoss gradient matches finite differences", "[loss][gradcheck]") {
    Rng rng(3);
    Tensor<double> z = Tensor<double>::from_shape({4, 5});
    for (auto& v : z) v = rng.uniform(-3, 3);
    std::vector<int> t{0, 4, 2, 2};
    CrossEntropyLoss<double> ce;
    ce.forward(z, t);
    Tensor<double> g = ce.backward();
    double worst = 0;
    for (std::size_t i = 0; i < z.size(); ++i) {
        const double s = z.data()[i], h = 1e-6;
        z.data()[i] = s + h;
        const double lp = ce.forward(z, t);
        z.data()[i] = s - h;
        const double lm = ce.forward(z, t);
        z.data()[i] = s;
        worst = std::max(worst, testing::rel_err(g.data()[i], (lp - lm) / (2 * h)));
    }
    INFO("max relative error " << worst);
    CHECK(worst < 1e-6);
}

TEST_CASE("CrossEntropyLoss is stable for large logits", "[loss]") {
    CrossEntropyLoss<float> ce;
    Tensor<float> z = {{1000.f, 0.f, -1000.f}, {-5000.f, 5000.f, 0.f}};
    const float l = ce.forward(z, std::vector<int>{0, 0});
    CHECK(std::isfinite(l));
    CHECK(l == Approx(5000.0f));  // row 0 contributes ~0, row 1 contributes 10000; mean 5000
    const auto& g = ce.backward();
    for (float v : g) CHECK(std::isfinite(v));
}

TEST_CASE("CrossEntropyLoss rejects bad targets", "[loss][errors]") {
    CrossEntropyLoss<float> ce;
    Tensor<float> z = xt::zeros<float>({2, 3});
    CHECK_THROWS_WITH(ce.forward(z, std::vector<int>{0, 3}), Catch::Contains("outside [0, 3)"));
    CHECK_THROWS_WITH(ce.forward(z, std::vector<int>{0}), Catch::Contains("1 targets for 2 rows"));
}

TEST_CASE("MSELoss value and gradient", "[loss][gradcheck]") {
    MSELoss<double> mse;
    Tensor<double> y = {{1.0, 2.0}, {3.0, 5.0}};
    Tensor<double> t = {{0.0, 2.0}, {3.0, 3.0}};
    CHECK(mse.forward(y, t) == Approx((1.0 + 4.0) / 4.0));
    const auto& g = mse.backward();
    CHECK(g(0, 0) == Approx(0.5));
    CHECK(g(1, 1) == Approx(1.0));
    CHECK(g(0, 1) == 0.0);
    Tensor<double> bad = xt::zeros<double>({3});
    CHECK_THROWS_WITH(mse.forward(y, bad), Catch::Contains("differ in shape"));
}
