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
    const Tensor<T>& forward(const Tensor<T>& x) override {
        x_shape_ = shape_of(x);
        ensure_shape(y_, output_shape(x_shape_));
        std::copy(x.data(), x.data() + x.size(), y_.data());
        return y_;
    }
    const Tensor<T>& backward(const Tensor<T>& dy) override {
        this->check_grad_shape(dy, y_);
        ensure_shape(dx_, x_shape_);
        std::copy(dy.data(), dy.data() + dy.size(), dx_.data());
        return dx_;
    }

private:
    Shape x_shape_;
    Tensor<T> y_, dx_;
};

}  // namespace ann
