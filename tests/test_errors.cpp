// Shape and channel mismatches throw ann::Error naming the layer and both shapes.
#include <catch2/catch.hpp>

#include "ann/ann.hpp"

using namespace ann;

TEST_CASE("layers name themselves and the shapes on bad input", "[errors]") {
    Conv2d<float> conv(3, 16, 3);
    Tensor<float> gray = xt::zeros<float>({2, 1, 28, 28});
    CHECK_THROWS_WITH(conv.forward(gray),
                      Catch::Contains("Conv2d(3, 16, kernel_size=3)") && Catch::Contains("(N, 3, H, W)") &&
                          Catch::Contains("(2, 1, 28, 28)"));
    Tensor<float> tiny = xt::zeros<float>({1, 3, 2, 2});
    CHECK_THROWS_WITH(conv.forward(tiny), Catch::Contains("smaller than the 3x3 kernel"));

    Linear<float> lin(10, 4);
    Tensor<float> x = xt::zeros<float>({5, 9});
    CHECK_THROWS_WITH(lin.forward(x), Catch::Contains("Linear(in_features=10") && Catch::Contains("(5, 9)"));
    Tensor<float> r3 = xt::zeros<float>({5, 10, 1});
    CHECK_THROWS_AS(lin.forward(r3), Error);

    MaxPool2d<float> pool(2);
    Tensor<float> flat = xt::zeros<float>({5, 10});
    CHECK_THROWS_WITH(pool.forward(flat), Catch::Contains("MaxPool2d") && Catch::Contains("(5, 10)"));
}

TEST_CASE("backward with a wrong gradient shape is an error", "[errors]") {
    ReLU<float> relu;
    Tensor<float> x = xt::ones<float>({2, 3});
    relu.forward(x);
    Tensor<float> dy = xt::ones<float>({3, 2});
    CHECK_THROWS_WITH(relu.backward(dy), Catch::Contains("ReLU()") && Catch::Contains("(3, 2)"));
}

TEST_CASE("a model's summary and shape errors point at the failing layer", "[errors][models]") {
    auto m = models::homework<float>("cnn_3");
    CHECK_THROWS_WITH(m.output_shape({1, 3, 8, 8}), Catch::Contains("MaxPool2d") || Catch::Contains("Conv2d"));
    CHECK_THROWS_WITH(models::homework<float>("cnn_9"), Catch::Contains("unknown architecture 'cnn_9'"));
}
