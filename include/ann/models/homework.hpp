#pragma once
// The five EE449 HW1 architectures (valid padding, stride-1 convolutions, 2x2 max-pool with
// stride 2, PredictionLayer = FC-10), on 3x32x32 CIFAR-10 images:
//   mlp_1: [FC-32, ReLU] + FC-10
//   mlp_2: [FC-32, ReLU, FC-64 (no bias)] + FC-10
//   cnn_3: [Conv3x3x16, ReLU, Conv5x5x8, ReLU, MaxPool, Conv7x7x16, MaxPool] + FC-10
//   cnn_4: [Conv3x3x16, ReLU, Conv3x3x8, ReLU, Conv5x5x16, ReLU, MaxPool, Conv5x5x16, ReLU, MaxPool] + FC-10
//   cnn_5: [Conv3x3x8, ReLU, Conv3x3x16, ReLU, Conv3x3x8, ReLU, Conv3x3x16, ReLU, MaxPool,
//           Conv3x3x16, ReLU, Conv3x3x8, ReLU, MaxPool] + FC-10
// Activation::sigmoid puts a Sigmoid wherever the homework has a ReLU (part 4).
#include <array>
#include <string>

#include "ann/layers/activations.hpp"
#include "ann/layers/conv2d.hpp"
#include "ann/layers/flatten.hpp"
#include "ann/layers/linear.hpp"
#include "ann/layers/maxpool2d.hpp"
#include "ann/layers/sequential.hpp"

namespace ann::models {

enum class Activation { relu, sigmoid };

inline const std::array<std::string, 5>& homework_names() {
    static const std::array<std::string, 5> names{"mlp_1", "mlp_2", "cnn_3", "cnn_4", "cnn_5"};
    return names;
}

inline Shape cifar_input_shape(std::size_t batch) { return {batch, 3, 32, 32}; }

template <class T>
Sequential<T> homework(const std::string& name, Activation act = Activation::relu, Rng& rng = default_rng()) {
    Sequential<T> m;
    auto nonlin = [&] {
        if (act == Activation::relu)
            m.template emplace<ReLU<T>>();
        else
            m.template emplace<Sigmoid<T>>();
    };
    auto conv = [&](std::size_t in, std::size_t out, std::size_t k) {
        m.template emplace<Conv2d<T>>(in, out, k, 1, 0, true, rng);
    };
    auto pool = [&] { m.template emplace<MaxPool2d<T>>(2, 2); };
    auto fc = [&](std::size_t in, std::size_t out, bool bias = true) {
        m.template emplace<Linear<T>>(in, out, bias, rng);
    };
    if (name == "mlp_1") {
        m.template emplace<Flatten<T>>();
        fc(3072, 32), nonlin(), fc(32, 10);
    } else if (name == "mlp_2") {
        m.template emplace<Flatten<T>>();
        fc(3072, 32), nonlin(), fc(32, 64, false), fc(64, 10);
    } else if (name == "cnn_3") {  // 32 -> 30 -> 26 -> 13 -> 7 -> 3
        conv(3, 16, 3), nonlin(), conv(16, 8, 5), nonlin(), pool(), conv(8, 16, 7), pool();
        m.template emplace<Flatten<T>>();
        fc(16 * 3 * 3, 10);
    } else if (name == "cnn_4") {  // 32 -> 30 -> 28 -> 24 -> 12 -> 8 -> 4
        conv(3, 16, 3), nonlin(), conv(16, 8, 3), nonlin(), conv(8, 16, 5), nonlin(), pool();
        conv(16, 16, 5), nonlin(), pool();
        m.template emplace<Flatten<T>>();
        fc(16 * 4 * 4, 10);
    } else if (name == "cnn_5") {  // 32 -> 30 -> 28 -> 26 -> 24 -> 12 -> 10 -> 8 -> 4
        conv(3, 8, 3), nonlin(), conv(8, 16, 3), nonlin(), conv(16, 8, 3), nonlin(), conv(8, 16, 3), nonlin(), pool();
        conv(16, 16, 3), nonlin(), conv(16, 8, 3), nonlin(), pool();
        m.template emplace<Flatten<T>>();
        fc(8 * 4 * 4, 10);
    } else {
        fail("unknown architecture '", name, "' (expected one of mlp_1, mlp_2, cnn_3, cnn_4, cnn_5)");
    }
    return m;
}

}  // namespace ann::models
