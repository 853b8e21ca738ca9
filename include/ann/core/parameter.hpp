#pragma once
// A trainable tensor and its gradient, on the device of its layer.
//
// Gradient contract (the same as PyTorch's): backward ADDS into Parameter::grad, so gradients
// of several backward calls accumulate until zero_grad(); a layer's input gradient is
// OVERWRITTEN on every backward call. tests/test_gradcheck.cpp checks both.
#include <cmath>
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

// What every value of a buffer must be for the layer to work. A model file or checkpoint whose
// values break it is refused at load, naming the file and the tensor, before the model is
// touched (io/model_file.hpp, stage_model): a running variance of -1 or NaN is a corrupt or
// hostile file, not a model. Declared by the layer that owns the buffer.
enum class ValueRule {
    any,
    finite,               // no NaN or infinity (BatchNorm2d's running_mean)
    non_negative_finite,  // finite and >= 0 (BatchNorm2d's running_var)
};

inline const char* to_string(ValueRule r) {
    switch (r) {
        case ValueRule::finite: return "finite";
        case ValueRule::non_negative_finite: return "finite and non-negative";
        case ValueRule::any: break;
    }
    return "any value";
}

// Whether v satisfies r.
template <class T>
bool satisfies(T v, ValueRule r) {
    switch (r) {
        case ValueRule::any: return true;
        case ValueRule::finite: return std::isfinite(v);
        case ValueRule::non_negative_finite: return std::isfinite(v) && v >= T(0);
    }
    return true;
}

// A layer's non-trainable state that belongs in its model file, PyTorch's "buffer" (BatchNorm's
// running statistics): saved and loaded with the parameters, moved with them, never optimized.
template <class T>
struct Buffer {
    std::string name;  // e.g. "running_mean"
    Array<T> value;
    ValueRule rule = ValueRule::any;  // what a loaded value must satisfy

    Buffer() = default;
    Buffer(std::string n, const Shape& shape, ValueRule r = ValueRule::any)
        : name(std::move(n)), value(shape), rule(r) {
        value.zero();
    }
    std::size_t size() const { return value.size(); }
};

}  // namespace ann
