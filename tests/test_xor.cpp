// A small MLP built from the library's layers learns XOR.
#include <catch2/catch.hpp>

#include "ann/ann.hpp"

using namespace ann;

TEST_CASE("an MLP of Linear/Tanh/Sigmoid learns XOR", "[xor][training]") {
    Rng rng(1);
    // Gaussian blobs around the four corners, labels 0,1,0,1 as in the course's data set.
    const double cx[4] = {1, 1, -1, -1}, cy[4] = {1, -1, -1, 1};
    const int label[4] = {0, 1, 0, 1};
    const std::size_t n = 400;
    Array<float> x({n, 2});
    Tensor<float> y = Tensor<float>::from_shape({n, 1});
    for (std::size_t i = 0; i < n; ++i) {
        const int q = static_cast<int>(i % 4);
        x(i, 0) = static_cast<float>(cx[q] + 0.4 * rng.normal());
        x(i, 1) = static_cast<float>(cy[q] + 0.4 * rng.normal());
        y(i, 0) = static_cast<float>(label[q]);
    }
    Sequential<float> m;
    m.emplace<Linear<float>>(2, 8, true, rng);
    m.emplace<Tanh<float>>();
    m.emplace<Linear<float>>(8, 1, true, rng);
    m.emplace<Sigmoid<float>>();
    MSELoss<float> mse;
    Adam<float> opt(m.parameters(), AdamOptions{0.05});
    float first = 0, last = 0;
    for (int epoch = 0; epoch < 300; ++epoch) {
        opt.zero_grad();
        last = mse.forward(m.forward(x), y);
        if (epoch == 0) first = last;
        m.backward(mse.backward());
        opt.step();
    }
    m.eval();
    const auto& out = m.forward(x);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < n; ++i) correct += (out(i, 0) > 0.5f) == (y(i, 0) > 0.5f);
    INFO("loss " << first << " -> " << last << ", accuracy " << correct << "/" << n);
    CHECK(last < first / 4);
    CHECK(double(correct) / n >= 0.95);
}
