// Trains a tiny Linear net through the installed headers and exported target: exits 0 only if
// the loss falls, so a package that builds but links or behaves wrongly still fails.
#include <cstdio>

#include "ann/ann.hpp"

int main() {
    ann::Rng rng(1);
    ann::Linear<float> net(2, 1, true, rng);
    ann::MSELoss<float> mse;
    ann::SGD<float> opt(net.parameters(), 0.1);

    // y = 2 x0 - 3 x1 + 1 on a fixed batch of 8 points.
    ann::Tensor<float> x = ann::Tensor<float>::from_shape({8, 2});
    ann::Tensor<float> y = ann::Tensor<float>::from_shape({8, 1});
    for (std::size_t n = 0; n < 8; ++n) {
        x(n, 0) = static_cast<float>(rng.uniform(-1, 1));
        x(n, 1) = static_cast<float>(rng.uniform(-1, 1));
        y(n, 0) = 2 * x(n, 0) - 3 * x(n, 1) + 1;
    }
    float first = 0, last = 0;
    for (int step = 0; step < 200; ++step) {
        opt.zero_grad();
        last = mse.forward(net.forward(x), y);
        if (step == 0) first = last;
        net.backward(mse.backward());
        opt.step();
    }
    std::printf("consumer: MSE %.6g -> %.6g after 200 SGD steps\n", first, last);
    if (!(last < first * 1e-3f)) {
        std::fprintf(stderr, "consumer: training did not converge\n");
        return 1;
    }
    return 0;
}
