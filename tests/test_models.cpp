// The homework architectures: parameter counts (computed by hand, equal to PyTorch's
// sum(p.numel())) and output shapes.
#include <catch2/catch.hpp>

#include "ann/ann.hpp"

using namespace ann;

TEST_CASE("homework architectures have the homework's parameter counts and shapes", "[models]") {
    struct Expect { const char* name; std::size_t params; std::size_t layers; };
    const Expect expect[] = {
        {"mlp_1", 3072 * 32 + 32 + 32 * 10 + 10, 4},
        {"mlp_2", 3072 * 32 + 32 + 32 * 64 + 64 * 10 + 10, 5},
        {"cnn_3", (3 * 9 * 16 + 16) + (16 * 25 * 8 + 8) + (8 * 49 * 16 + 16) + (144 * 10 + 10), 9},
        {"cnn_4", (3 * 9 * 16 + 16) + (16 * 9 * 8 + 8) + (8 * 25 * 16 + 16) + (16 * 25 * 16 + 16) + (256 * 10 + 10), 12},
        {"cnn_5", (3 * 9 * 8 + 8) + (8 * 9 * 16 + 16) + (16 * 9 * 8 + 8) + (8 * 9 * 16 + 16) + (16 * 9 * 16 + 16) +
                      (16 * 9 * 8 + 8) + (128 * 10 + 10), 16},
    };
    for (const auto& e : expect) {
        for (auto act : {models::Activation::relu, models::Activation::sigmoid}) {
            auto m = models::homework<float>(e.name, act);
            INFO(e.name << "\n" << m.summary(models::cifar_input_shape(50)));
            CHECK(m.num_parameters() == e.params);
            CHECK(m.size() == e.layers);
            CHECK(m.output_shape(models::cifar_input_shape(50)) == Shape{50, 10});
            Tensor<float> x = xt::zeros<float>({2, 3, 32, 32});
            CHECK(m.forward(x).shape() == Shape{2, 10});
        }
    }
}
