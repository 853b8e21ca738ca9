// Finite-difference gradient checks (double) for every layer: input gradient and every
// parameter gradient, random shapes incl. stride/padding variants and batch > 1.
#include <catch2/catch.hpp>

#include <cstdio>

#include "ann/ann.hpp"
#include "ann/testing/gradcheck.hpp"
#include "gradcheck_util.hpp"

using namespace ann;

using testutil::random_tensor;
using testutil::check_gradients;

TEST_CASE("gradcheck Linear", "[gradcheck]") {
    Rng init(1);
    Linear<double> a(7, 5, true, init);
    check_gradients(a, {3, 7}, 11);
    Linear<double> b(4, 6, false, init);
    check_gradients(b, {2, 4}, 12);
    Linear<double> c(1, 1, true, init);
    check_gradients(c, {1, 1}, 13);
}

TEST_CASE("gradcheck Conv2d with stride and padding variants", "[gradcheck]") {
    struct Case { std::size_t C, O, k, s, p, N, H, W; bool bias; };
    const Case cases[] = {
        {3, 4, 3, 1, 0, 2, 6, 5, true},  {2, 3, 3, 2, 1, 2, 7, 7, true}, {1, 2, 5, 1, 2, 3, 5, 6, false},
        {2, 2, 2, 3, 0, 2, 8, 7, true},  {3, 2, 1, 1, 0, 1, 4, 4, true}, {2, 3, 4, 2, 3, 2, 5, 4, true},
    };
    std::uint64_t seed = 100;
    for (const auto& c : cases) {
        Rng init(seed);
        Conv2d<double> conv(c.C, c.O, c.k, c.s, c.p, c.bias, init);
        check_gradients(conv, {c.N, c.C, c.H, c.W}, ++seed);
    }
}

TEST_CASE("gradcheck MaxPool2d", "[gradcheck]") {
    MaxPool2d<double> p2(2, 2);
    check_gradients(p2, {2, 3, 6, 5}, 21);
    MaxPool2d<double> p3(3, 2);
    check_gradients(p3, {2, 2, 7, 7}, 22);
}

TEST_CASE("gradcheck activations and Flatten", "[gradcheck]") {
    ReLU<double> relu;
    check_gradients(relu, {3, 4, 2, 2}, 31);
    Sigmoid<double> sig;
    check_gradients(sig, {3, 7}, 32);
    Tanh<double> tanh_;
    check_gradients(tanh_, {2, 3, 3}, 33);
    Flatten<double> flat;
    check_gradients(flat, {2, 3, 2, 2}, 34);
}

TEST_CASE("gradcheck a whole Sequential CNN", "[gradcheck]") {
    Rng init(5);
    Sequential<double> m;
    m.emplace<Conv2d<double>>(2, 3, 3, 1, 1, true, init);
    m.emplace<Tanh<double>>();
    m.emplace<MaxPool2d<double>>(2);
    m.emplace<Conv2d<double>>(3, 2, 2, 1, 0, true, init);
    m.emplace<Sigmoid<double>>();
    m.emplace<Flatten<double>>();
    m.emplace<Linear<double>>(2 * 2 * 2, 3, true, init);
    m.requires_input_grad(true);  // a Sequential skips its input gradient unless asked
    check_gradients(m, {2, 2, 6, 6}, 41);
}

TEST_CASE("a Sequential skips its input gradient by default, with the same parameter gradients", "[gradcheck][contract]") {
    // Flatten, Linear (the first layer with parameters), Tanh, then a nested Sequential block,
    // which must still get (and pass on) full gradients.
    auto build = [](Rng& r) {
        Sequential<double> m;
        m.emplace<Flatten<double>>();
        m.emplace<Linear<double>>(12, 5, true, r);
        m.emplace<Tanh<double>>();
        auto& block = m.emplace<Sequential<double>>();
        block.emplace<Linear<double>>(5, 4, true, r);
        block.emplace<Sigmoid<double>>();
        m.emplace<Linear<double>>(4, 3, true, r);
        return m;
    };
    Rng r1(6), r2(6), data(7);
    Sequential<double> skipping = build(r1), full = build(r2);
    full.requires_input_grad(true);
    CHECK_FALSE(skipping.requires_input_grad());
    const auto x = random_tensor({2, 3, 2, 2}, data);
    const auto dy = random_tensor({2, 3}, data);
    skipping.forward(x);
    CHECK(skipping.backward(dy).size() == 0);
    CHECK_FALSE(skipping[1].requires_input_grad());  // the first Linear: parameters only
    CHECK(skipping[3].requires_input_grad());        // the block after it: full gradients
    full.forward(x);
    CHECK(full.backward(dy).shape() == Shape{2, 3, 2, 2});
    auto ps = skipping.parameters(), pf = full.parameters();
    REQUIRE(ps.size() == pf.size());
    for (std::size_t i = 0; i < ps.size(); ++i) CHECK((ps[i]->grad.host() == pf[i]->grad.host()));
    // And those gradients are right: the full model passes the finite-difference check.
    check_gradients(full, {2, 3, 2, 2}, 42);
}

TEST_CASE("parameter gradients accumulate, input gradients are overwritten", "[gradcheck][contract]") {
    Rng rng(9);
    Linear<double> lin(3, 2, true, rng);
    auto x = random_tensor({4, 3}, rng);
    auto dy = random_tensor({4, 2}, rng);
    lin.forward(x);
    Tensor<double> dx1 = lin.backward(dy);
    Tensor<double> g1 = lin.weight().grad;
    lin.forward(x);
    Tensor<double> dx2 = lin.backward(dy);
    CHECK(xt::allclose(lin.weight().grad.host(), 2.0 * g1));
    CHECK(xt::allclose(dx1, dx2));
    lin.zero_grad();
    CHECK(xt::amax(xt::abs(lin.weight().grad.host()))() == 0.0);
}
