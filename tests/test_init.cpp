// Initialisation follows PyTorch's default distributions, and seeds reproduce networks.
#include <catch2/catch.hpp>

#include <cmath>

#include "ann/ann.hpp"

using namespace ann;

namespace {
// U(-b, b) has mean 0 and std b/sqrt(3); check both within 5 standard errors.
void check_uniform_moments(const Tensor<float>& w, double bound) {
    const double n = static_cast<double>(w.size());
    double mean = 0, sq = 0, lo = 1e9, hi = -1e9;
    for (float v : w) {
        mean += v;
        sq += double(v) * v;
        lo = std::min(lo, double(v));
        hi = std::max(hi, double(v));
    }
    mean /= n;
    const double var = sq / n - mean * mean;
    const double sd = bound / std::sqrt(3.0);
    CHECK(std::abs(mean) < 5 * sd / std::sqrt(n));
    // Var of the sample variance of U(-b,b): (b^4/5 - b^4/9)/n.
    const double var_se = std::sqrt((std::pow(bound, 4) / 5 - std::pow(bound, 4) / 9) / n);
    CHECK(std::abs(var - sd * sd) < 5 * var_se);
    CHECK(lo >= -bound);
    CHECK(hi <= bound);
}
}  // namespace

TEST_CASE("Linear and Conv2d init match PyTorch's default distributions", "[init]") {
    Rng rng(42);
    Linear<float> lin(3072, 32, true, rng);
    check_uniform_moments(lin.weight().value, 1.0 / std::sqrt(3072.0));
    Conv2d<float> conv(16, 64, 5, 1, 0, true, rng);
    check_uniform_moments(conv.weight().value, 1.0 / std::sqrt(16.0 * 25));
    Linear<float> big_bias(4, 20000, true, rng);
    check_uniform_moments(big_bias.bias().value, 0.5);
}

TEST_CASE("same seed gives the same network, another seed another", "[init][determinism]") {
    for (const auto& name : models::homework_names()) {
        Rng a(7), b(7), c(8);
        auto m1 = models::homework<float>(name, models::Activation::relu, a);
        auto m2 = models::homework<float>(name, models::Activation::relu, b);
        auto m3 = models::homework<float>(name, models::Activation::relu, c);
        auto p1 = m1.parameters(), p2 = m2.parameters(), p3 = m3.parameters();
        REQUIRE(p1.size() == p2.size());
        bool same = true, differs = false;
        for (std::size_t i = 0; i < p1.size(); ++i) {
            same = same && p1[i]->value.host() == p2[i]->value.host();
            differs = differs || p1[i]->value.host() != p3[i]->value.host();
        }
        CHECK(same);
        CHECK(differs);
    }
}
