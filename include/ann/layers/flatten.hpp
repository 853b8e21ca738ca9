#pragma once
// Flatten: (N, d1, d2, ...) -> (N, d1*d2*...), as torch.nn.Flatten().
#include "ann/layers/layer.hpp"

namespace ann {

template <class T>
class Flatten : public Layer<T> {
public:
    std::string name() const override { return "Flatten()"; }
    Shape output_shape(const Shape& s) const override {
        if (s.empty()) fail(name(), ": expected at least a batch dimension, got a scalar");
        return {s[0], s[0] == 0 ? 0 : numel(s) / s[0]};
    }
    const Array<T>& forward(const Array<T>& x) override {
        this->check_device(x);
        x_shape_ = x.shape();
        this->place(y_, output_shape(x_shape_));
        y_.copy_from(x);
        return y_;
    }
    const Array<T>& backward(const Array<T>& dy) override {
        this->check_grad_shape(dy, y_);
        if (!this->input_grad_) return this->no_input_grad_;
        this->place(dx_, x_shape_);
        dx_.copy_from(dy);
        return dx_;
    }

private:
    Shape x_shape_;
    Array<T> y_, dx_;
};

}  // namespace ann
