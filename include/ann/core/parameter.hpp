#pragma once
// A trainable tensor and its gradient.
//
// Gradient contract (the same as PyTorch's): backward ADDS into Parameter::grad, so gradients
// of several backward calls accumulate until zero_grad(); a layer's input gradient is
// OVERWRITTEN on every backward call. tests/test_gradcheck.cpp checks both.
#include <string>

#include "ann/core/tensor.hpp"

namespace ann {

template <class T>
struct Parameter {
    std::string name;  // e.g. "weight", "bias"
    Tensor<T> value;
    Tensor<T> grad;

    Parameter() = default;
    Parameter(std::string n, const Shape& shape)
        : name(std::move(n)), value(Tensor<T>::from_shape(shape)), grad(Tensor<T>::from_shape(shape)) {
        value.fill(T(0));
        grad.fill(T(0));
    }
    void zero_grad() { grad.fill(T(0)); }
    std::size_t size() const { return value.size(); }
};

}  // namespace ann
