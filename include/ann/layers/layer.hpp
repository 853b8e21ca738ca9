#pragma once
// The layer contract. To add a layer, subclass Layer<T> and implement:
//   forward(x)   -> y. Caches what backward needs (and only that). Returns a reference to a
//                   buffer the layer owns: valid until the next forward call on this layer.
//   backward(dy) -> dx. Uses the cache of the LAST forward call; OVERWRITES dx and ADDS
//                   parameter gradients into Parameter::grad (see core/parameter.hpp).
//   name()       -> "Conv2d(3, 16, kernel_size=3)"-style description used in error messages.
//   output_shape(input_shape) -> throws ann::Error if the input shape is not accepted.
//   parameters() -> the layer's trainable tensors, in PyTorch's order (weight, then bias).
// Shapes are NCHW for images and (N, features) for vectors; each layer documents its own.
#include <memory>
#include <string>
#include <vector>

#include "ann/core/error.hpp"
#include "ann/core/parameter.hpp"
#include "ann/core/tensor.hpp"

namespace ann {

template <class T>
class Layer {
public:
    virtual ~Layer() = default;

    virtual const Tensor<T>& forward(const Tensor<T>& x) = 0;
    virtual const Tensor<T>& backward(const Tensor<T>& dy) = 0;
    virtual std::string name() const = 0;
    virtual Shape output_shape(const Shape& input) const = 0;
    virtual std::vector<Parameter<T>*> parameters() { return {}; }

    // Training vs evaluation mode. None of our layers behaves differently yet, but in eval
    // mode layers may skip caching for backward.
    virtual void train(bool on = true) { training_ = on; }
    void eval() { train(false); }
    bool is_training() const { return training_; }

    void zero_grad() {
        for (auto* p : parameters()) p->zero_grad();
    }
    std::size_t num_parameters() {
        std::size_t n = 0;
        for (auto* p : parameters()) n += p->size();
        return n;
    }

protected:
    bool training_ = true;

    // backward before forward, or with a gradient of the wrong shape, is a usage error.
    void check_grad_shape(const Tensor<T>& dy, const Tensor<T>& y) const {
        if (!std::equal(dy.shape().begin(), dy.shape().end(), y.shape().begin(), y.shape().end()))
            fail(name(), ": backward got a gradient of shape ", shape_str(dy.shape()),
                 ", expected the shape of the last forward output ", shape_str(y.shape()));
    }
};

}  // namespace ann
