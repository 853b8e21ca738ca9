#pragma once
// A trainable tensor and its gradient, on the device of its layer.
//
// Gradient contract (the same as PyTorch's): backward ADDS into Parameter::grad, so gradients
// of several backward calls accumulate until zero_grad(); a layer's input gradient is
// OVERWRITTEN on every backward call. tests/test_gradcheck.cpp checks both.
#include <string>

#include "ann/core/array.hpp"

namespace ann {

template <class T>
struct Parameter {
    std::string name;  // e.g. "weight", "bias"
    Array<T> value;
    Array<T> grad;

    Parameter() = default;
    Parameter(std::string n, const Shape& shape) : name(std::move(n)), value(shape), grad(shape) {
        value.zero();
        grad.zero();
    }
    void zero_grad() { grad.zero(); }
    std::size_t size() const { return value.size(); }
    Device device() const { return value.device(); }
    // Moves value and gradient to device d (explicit copies; a no-op where they are).
    void to(Device d) {
        value.move_to(d);
        grad.move_to(d);
    }
};

// A layer's non-trainable state that belongs in its model file, PyTorch's "buffer" (BatchNorm's
// running statistics): saved and loaded with the parameters, moved with them, never optimized.
template <class T>
struct Buffer {
    std::string name;  // e.g. "running_mean"
    Array<T> value;

    Buffer() = default;
    Buffer(std::string n, const Shape& shape) : name(std::move(n)), value(shape) { value.zero(); }
    std::size_t size() const { return value.size(); }
};

}  // namespace ann
