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

TEST_CASE("an error inside a Sequential names the layer's index and where a rejected shape came from",
          "[errors][models]") {
    auto m = models::homework<float>("cnn_3");
    // 28x28 images pass every convolution and fail at the first Linear.
    Tensor<float> mnist = xt::zeros<float>({2, 3, 28, 28});
    std::string msg;
    try {
        m.forward(mnist);
    } catch (const Error& e) {
        msg = e.what();
    }
    INFO(msg);
    CHECK_THAT(m[8].name(), Catch::StartsWith("Linear("));  // cnn_3: ..., 7 Flatten, 8 Linear
    CHECK_THAT(msg, Catch::StartsWith("layer 8 (Linear(in_features="));
    CHECK_THAT(msg, Catch::Contains("that shape is the output of layer 7 (Flatten())"));
    CHECK_THAT(msg, Catch::Contains("input (2, 3, 28, 28) -> 0: "));
    // The layer's own name is not repeated after the index.
    CHECK(msg.find("Linear(", 10) == std::string::npos);

    Tensor<float> gray = xt::zeros<float>({2, 1, 32, 32});
    CHECK_THROWS_WITH(m.forward(gray), Catch::StartsWith("layer 0 (Conv2d(3, ") &&
                                           Catch::Contains("that shape is the model's input"));
    // The same in eval mode, where convolutions run fused with their activation and pool.
    m.eval();
    CHECK_THROWS_WITH(m.forward(mnist), Catch::StartsWith("layer 8 (Linear("));
    m.train();

    // Errors during backward name the layer too.
    Tensor<float> x = xt::zeros<float>({2, 3, 32, 32});
    m.forward(x);
    Tensor<float> wrong = xt::zeros<float>({2, 9});
    CHECK_THROWS_WITH(m.backward(wrong), Catch::StartsWith("layer 8 (Linear(") && Catch::Contains("(2, 9)"));
    // A nested Sequential prefixes both indices.
    Sequential<float> outer;
    outer.emplace<Sequential<float>>(models::homework<float>("mlp_1"));
    Tensor<float> bad = xt::zeros<float>({2, 3, 16, 16});
    CHECK_THROWS_WITH(outer.forward(bad), Catch::StartsWith("layer 0 (Sequential): layer 1 (Linear("));
}

TEST_CASE("summary lists every layer's output shape and parameter count, with the total", "[models]") {
    auto m = models::homework<float>("cnn_3");
    const std::string s = m.summary({50, 3, 32, 32});
    INFO(s);
    std::size_t n = 0;
    for (auto* p : m.parameters()) n += p->size();
    std::string total = std::to_string(n);
    for (int k = int(total.size()) - 3; k > 0; k -= 3) total.insert(std::size_t(k), ",");
    CHECK_THAT(s, Catch::Contains("total parameters: " + total + " ("));
    CHECK_THAT(s, Catch::Contains("(50, 10)"));
    for (std::size_t i = 0; i < m.size(); ++i) CHECK_THAT(s, Catch::Contains(m[i].name()));
    CHECK_THROWS_WITH(m.summary({50, 3, 8, 8}), Catch::StartsWith("layer "));
}
