// Optimizer rules written out by hand for one scalar, step by step.
#include <catch2/catch.hpp>

#include <cmath>

#include "ann/ann.hpp"

using namespace ann;

TEST_CASE("SGD with momentum follows PyTorch's update", "[optim]") {
    Parameter<double> p("w", {1});
    p.value(0) = 1.0;
    SGD<double> opt({&p}, 0.1, 0.9);
    double w = 1.0, buf = 0.0;
    const double grads[] = {0.5, -0.25, 1.0};
    for (int i = 0; i < 3; ++i) {
        p.grad(0) = grads[i];
        opt.step();
        buf = i == 0 ? grads[i] : 0.9 * buf + grads[i];
        w -= 0.1 * buf;
        CHECK(p.value(0) == Approx(w).epsilon(1e-14));
    }
}

TEST_CASE("Adam follows PyTorch's update with bias correction", "[optim]") {
    Parameter<double> p("w", {1});
    p.value(0) = 0.3;
    Adam<double> opt({&p}, AdamOptions{0.01});
    double w = 0.3, m = 0, v = 0;
    const double grads[] = {0.5, -0.25, 1.0, 0.0};
    for (int t = 1; t <= 4; ++t) {
        const double g = grads[t - 1];
        p.grad(0) = g;
        opt.step();
        m = 0.9 * m + 0.1 * g;
        v = 0.999 * v + 0.001 * g * g;
        w -= (0.01 / (1 - std::pow(0.9, t))) * m / (std::sqrt(v) / std::sqrt(1 - std::pow(0.999, t)) + 1e-8);
        CHECK(p.value(0) == Approx(w).epsilon(1e-14));
    }
}

TEST_CASE("changing the learning rate keeps parameters and state", "[optim]") {
    Parameter<double> p("w", {2});
    p.value(0) = 1.0;
    p.value(1) = -1.0;
    SGD<double> opt({&p}, 0.1);
    p.grad.fill(1.0);
    opt.step();
    CHECK(p.value(0) == Approx(0.9));
    opt.set_lr(0.01);
    opt.step();
    CHECK(p.value(0) == Approx(0.89));
    SGD<double> fresh({&p}, 0.001);  // a new optimizer over the same, not reinitialised, values
    fresh.step();
    CHECK(p.value(0) == Approx(0.889));
    CHECK_THROWS_WITH(opt.set_lr(-1), Catch::Contains("learning rate"));
}
