#pragma once
// LeakyReLU, as torch.nn.LeakyReLU(negative_slope):
//   y = x > 0 ? x : negative_slope * x      dx = dy * (x > 0 ? 1 : negative_slope)
// PyTorch's backward rule, the slope applying at x == 0 too. Any shape; y has x's shape.
// With negative_slope >= 0 the sign of x can be read off y (y > 0 exactly where x > 0), so only
// the output is kept; a negative slope makes y > 0 for x < 0 as well, and then forward keeps a
// copy of x. Not one of Sequential's fused activations (those are ReLU, Sigmoid, Tanh).
#include <cmath>

#include "ann/core/format.hpp"
#include "ann/layers/layer.hpp"

namespace ann {

template <class T>
class LeakyReLU : public Layer<T> {
public:
    explicit LeakyReLU(double negative_slope = 0.01) : slope_(negative_slope) {
        if (!std::isfinite(negative_slope)) fail(name(), ": negative_slope must be finite");
    }

    std::string name() const override { return "LeakyReLU(negative_slope=" + float_repr(slope_) + ")"; }
    Shape output_shape(const Shape& s) const override { return s; }

    const Array<T>& forward(const Array<T>& x) override {
        this->check_device(x);
        this->place(y_, x.shape());
        if (keeps_input()) {
            this->place(x_, x.shape());
            x_.copy_from(x);
        }
        this->ops().leaky_relu_forward(x.data(), y_.data(), x.size(), T(slope_));
        return y_;
    }

    const Array<T>& backward(const Array<T>& dy) override {
        this->check_grad_shape(dy, y_);
        if (!this->input_grad_) return this->no_input_grad_;
        this->place(dx_, y_.shape());
        const Array<T>& sign_source = keeps_input() ? x_ : y_;
        this->ops().leaky_relu_backward(sign_source.data(), dy.data(), dx_.data(), y_.size(), T(slope_));
        return dx_;
    }

    double negative_slope() const { return slope_; }

private:
    double slope_;
    Array<T> x_, y_, dx_;
    bool keeps_input() const { return !(T(slope_) >= T(0)); }
};

}  // namespace ann
