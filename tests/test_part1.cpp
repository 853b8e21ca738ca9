// examples/part1_xor_mlp.hpp: the hand-written MLP's gradients against ann's layers, the XOR
// data set as the course builds it, and training to the accuracy the homework expects.
#include <catch2/catch.hpp>

#include "ann/ann.hpp"
#include "part1_xor_mlp.hpp"

using namespace ann;

TEST_CASE("part 1: the XOR data set has the course's blobs, labels, sizes and order", "[part1]") {
    Rng rng(0);
    const part1::XorData d = part1::part1_create_dataset(rng, 1000, 100, 0.4);
    REQUIRE(d.x_train.shape()[0] == 1000);
    REQUIRE(d.x_val.shape()[0] == 100);
    std::size_t ones = 0, agree = 0, first_run = 1;
    for (std::size_t i = 0; i < 1000; ++i) {
        const double l = d.y_train(i, 0);
        CHECK((l == 0 || l == 1));
        ones += l == 1;
        // XOR: label 1 in the (1,-1) and (-1,1) quadrants
        agree += (d.x_train(i, 0) * d.x_train(i, 1) < 0) == (l == 1);
        if (i > 0 && i == first_run && d.y_train(i, 0) == d.y_train(0, 0)) ++first_run;
    }
    CHECK(ones == 500);       // 250 per blob, two blobs per class
    CHECK(agree >= 950);      // std 0.4: few points cross an axis
    CHECK(first_run < 20);    // shuffled, not grouped by blob
    double mean_x = 0;
    for (std::size_t i = 0; i < 1000; ++i) mean_x += d.x_train(i, 0) / 1000;
    CHECK(std::fabs(mean_x) < 0.1);
    Rng other(1);
    CHECK(part1::part1_create_dataset(other).x_train(0, 0) != d.x_train(0, 0));
}

TEST_CASE("part 1: the hand-written MLP's gradients equal those of ann's Linear/activation layers", "[part1][gradients]") {
    for (part1::Act act : {part1::Act::sigmoid, part1::Act::tanh, part1::Act::relu}) {
        INFO(part1::act_name(act));
        Rng rng(7);
        part1::MLP nn(2, 4, 1, act, rng);
        const std::size_t N = 16;
        part1::Matrix x = part1::Matrix::from_shape({N, 2}), t = part1::Matrix::from_shape({N, 1});
        for (std::size_t i = 0; i < N; ++i) x(i, 0) = rng.normal(), x(i, 1) = rng.normal(), t(i, 0) = double(i % 2);
        nn.bias_hidden = {{0.1, -0.2, 0.3, 0.05}};  // non-zero so the bias path is checked too
        nn.bias_output = {{-0.1}};

        Sequential<double> m;
        auto& l1 = m.emplace<Linear<double>>(2, 4);
        if (act == part1::Act::sigmoid) m.emplace<Sigmoid<double>>();
        if (act == part1::Act::tanh) m.emplace<Tanh<double>>();
        if (act == part1::Act::relu) m.emplace<ReLU<double>>();
        auto& l2 = m.emplace<Linear<double>>(4, 1);
        m.emplace<Sigmoid<double>>();
        // Linear keeps W as (out, in); the homework's MLP as (in, out)
        l1.weight().value.host() = xt::transpose(nn.weights_input_hidden);
        l1.bias().value.host() = xt::flatten(nn.bias_hidden);
        l2.weight().value.host() = xt::transpose(nn.weights_hidden_output);
        l2.bias().value.host() = xt::flatten(nn.bias_output);

        const part1::Matrix out = nn.forward(x);
        const Tensor<double> xin = x, tin = t;
        MSELoss<double> mse;
        m.zero_grad();
        const double loss = mse.forward(m.forward(xin), tin);
        m.backward(mse.backward());
        const Tensor<double>& y = m.forward(xin);
        for (std::size_t i = 0; i < N; ++i) CHECK(out(i, 0) == Approx(y(i, 0)).epsilon(1e-12));
        CHECK(part1::mse(out, t) == Approx(loss).epsilon(1e-12));

        const part1::Matrix w1 = nn.weights_input_hidden;
        nn.backward(x, t, 0.0);  // learning rate 0: computes the steps, changes nothing
        CHECK((nn.weights_input_hidden == w1));
        // the homework's step is minus the gradient of 0.5 * SSE = (N / 2) * MSE
        const double k = -double(N) / 2;
        for (std::size_t i = 0; i < 2; ++i)
            for (std::size_t h = 0; h < 4; ++h)
                CHECK(nn.step_weights_input_hidden(i, h) == Approx(k * l1.weight().grad(h, i)).margin(1e-12));
        for (std::size_t h = 0; h < 4; ++h) {
            CHECK(nn.step_bias_hidden(0, h) == Approx(k * l1.bias().grad(h)).margin(1e-12));
            CHECK(nn.step_weights_hidden_output(h, 0) == Approx(k * l2.weight().grad(0, h)).margin(1e-12));
        }
        CHECK(nn.step_bias_output(0, 0) == Approx(k * l2.bias().grad(0)).margin(1e-12));

        // and a step of size lr moves the weights by lr * step
        nn.backward(x, t, 0.5);
        CHECK(nn.weights_input_hidden(1, 2) == Approx(w1(1, 2) + 0.5 * nn.step_weights_input_hidden(1, 2)));
    }
}

TEST_CASE("part 1: trained as the homework says (10000 epochs, lr 0.001) tanh reaches 95%", "[part1][training]") {
    Rng data_rng(0);
    const part1::XorData d = part1::part1_create_dataset(data_rng);
    Rng rng(0 * 0x9E3779B97F4A7C15ull + 1 + static_cast<std::uint64_t>(part1::Act::tanh));  // part1_xor's seed
    part1::MLP nn(2, 4, 1, part1::Act::tanh, rng);
    const double before = part1::mse(nn.forward(d.x_train), d.y_train);
    for (int epoch = 0; epoch < 10000; ++epoch) {
        nn.forward(d.x_train);
        nn.backward(d.x_train, d.y_train, 0.001);
    }
    const double after = part1::mse(nn.forward(d.x_train), d.y_train);
    CHECK(after < before / 4);
    CHECK(part1::accuracy(nn.forward(d.x_val), d.y_val) >= 95.0);
}
