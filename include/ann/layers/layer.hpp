#pragma once
// The layer contract. To add a layer, subclass Layer<T> and implement:
//   forward(x)   -> y. Caches what backward needs (and only that). Returns a reference to a
//                   buffer the layer owns: valid until the next forward call on this layer.
//   backward(dy) -> dx. Uses the cache of the LAST forward call; OVERWRITES dx and ADDS
//                   parameter gradients into Parameter::grad (see core/parameter.hpp).
//   name()       -> "Conv2d(3, 16, kernel_size=3)"-style description used in error messages.
//   output_shape(input_shape) -> throws ann::Error if the input shape is not accepted.
//   parameters() -> the layer's trainable tensors, in PyTorch's order (weight, then bias).
//   buffers()    -> (optional) non-trainable state saved in model files, in PyTorch's order
//                   (BatchNorm2d's running_mean, running_var); moved by to() with the parameters.
// Input gradient: requires_input_grad(false) tells a layer that nothing will read dx; its
// backward then adds the parameter gradients only and returns an empty Array (Sequential
// does this for its first layers, see layers/sequential.hpp).
// Shapes are NCHW for images and (N, features) for vectors; each layer documents its own.
//
// Devices: a layer is built on the CPU; to(Device::cuda) moves its parameters (explicit copies)
// and from then on its forward and backward take and return arrays on that device, computed by
// that device's backend primitives (backend/backend.hpp). The arithmetic is written once, here
// in the layers; only the primitives differ per device.
#include <memory>
#include <string>
#include <vector>

#include "ann/backend/registry.hpp"
#include "ann/core/array.hpp"
#include "ann/core/error.hpp"
#include "ann/core/parameter.hpp"

namespace ann {

template <class T>
class Layer {
public:
    virtual ~Layer() = default;

    virtual const Array<T>& forward(const Array<T>& x) = 0;
    virtual const Array<T>& backward(const Array<T>& dy) = 0;
    virtual std::string name() const = 0;
    virtual Shape output_shape(const Shape& input) const = 0;
    virtual std::vector<Parameter<T>*> parameters() { return {}; }
    virtual std::vector<Buffer<T>*> buffers() { return {}; }

    // Training vs evaluation mode. In eval mode layers skip caching for backward.
    virtual void train(bool on = true) { training_ = on; }
    void eval() { train(false); }
    bool is_training() const { return training_; }

    // Moves the parameters and buffers to device d; the layer's work arrays follow on its next forward.
    virtual void to(Device d) {
        backend<T>(d);  // an unavailable device fails here, before anything moved
        for (auto* p : parameters()) p->to(d);
        for (auto* b : buffers()) b->value.move_to(d);
        device_ = d;
    }
    Device device() const { return device_; }

    // Data-parallel training: the index, in the whole batch, of the first image this process's
    // forward sees (train/run.hpp sets it before each step; 0 otherwise). Layers whose randomness
    // is indexed by element (Dropout) read it, so P processes draw the single-process masks.
    virtual void set_first_image(std::size_t first) { first_image_ = first; }

    // Whether backward computes the gradient of the input (default: yes).
    virtual void requires_input_grad(bool on) { input_grad_ = on; }
    bool requires_input_grad() const { return input_grad_; }

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
    bool input_grad_ = true;
    std::size_t first_image_ = 0;
    Device device_ = Device::cpu;
    Array<T> no_input_grad_;  // what backward returns when the input gradient is not wanted

    Backend<T>& ops() const { return backend<T>(device_); }

    // An input on another device than the layer is a usage error, never a silent copy.
    void check_device(const Array<T>& x, const char* what = "input") const {
        if (x.device() != device_)
            fail(name(), ": its ", what, " is on ", to_string(x.device()), " but the layer is on ",
                 to_string(device_), " (move the model with to(), the data with Array::to)");
    }
    // The layer's own buffer: on the layer's device with this shape (allocates only on change).
    void place(Array<T>& buf, const Shape& shape) const { buf.ensure(shape, device_); }
    // backward before forward, or with a gradient of the wrong shape, is a usage error.
    void check_grad_shape(const Array<T>& dy, const Array<T>& y) const {
        check_device(dy, "gradient");
        if (y.device() != device_)
            fail(name(), ": backward after the layer moved to ", to_string(device_),
                 " needs a forward there first (its last forward ran on ", to_string(y.device()), ")");
        if (dy.shape() != y.shape())
            fail(name(), ": backward got a gradient of shape ", shape_str(dy.shape()),
                 ", expected the shape of the last forward output ", shape_str(y.shape()));
    }
};

}  // namespace ann
