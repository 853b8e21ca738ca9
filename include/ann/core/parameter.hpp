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
    whole_below_2_16,     // a whole number in [0, 2^16) (Dropout's seed pieces)
    whole_below_2_20,     // a whole number in [0, 2^20) (Dropout's forward-count pieces)
};

inline const char* to_string(ValueRule r) {
    switch (r) {
        case ValueRule::finite: return "finite";
        case ValueRule::non_negative_finite: return "finite and non-negative";
        case ValueRule::whole_below_2_16: return "whole numbers from 0 to 65535";
        case ValueRule::whole_below_2_20: return "whole numbers from 0 to 1048575";
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
        case ValueRule::whole_below_2_16: return v >= T(0) && v < T(65536) && v == std::floor(v);
        case ValueRule::whole_below_2_20: return v >= T(0) && v < T(1048576) && v == std::floor(v);
    }
    return true;
}

// A layer's non-trainable state that belongs in its model file, PyTorch's "buffer" (BatchNorm's
// running statistics): saved and loaded with the parameters, moved with them, never optimized.
// Data-parallel training (train/collective.hpp) keeps buffers equal on every process after each
// step, in one of two ways:
//   replicated  (default) the value of the last process, which always had images: state every
//               process advances the same way (Dropout's seed and counter); exact
//   mean        the mean over the processes that had images: statistics each process gathers
//               from its own shard (BatchNorm2d's running_mean and running_var)
enum class BufferSync { replicated, mean };

template <class T>
struct Buffer {
    std::string name;  // e.g. "running_mean"
    Array<T> value;
    ValueRule rule = ValueRule::any;  // what a loaded value must satisfy
    BufferSync sync = BufferSync::replicated;

    Buffer() = default;
    Buffer(std::string n, const Shape& shape, ValueRule r = ValueRule::any, BufferSync s = BufferSync::replicated)
        : name(std::move(n)), value(shape), rule(r), sync(s) {
        value.zero();
    }
    std::size_t size() const { return value.size(); }
};

}  // namespace ann
