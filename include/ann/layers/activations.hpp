#pragma once
// Element-wise activations. Each keeps its OUTPUT, from which its derivative follows
// (formulas in backend/cpu/activations.hpp):
//   ReLU: y = max(0, x)     Sigmoid: y = 1/(1+e^-x)     Tanh: y = tanh(x)
// Any shape is accepted; the output has the input's shape.
#include <optional>

#include "ann/layers/layer.hpp"

namespace ann {

template <class T, ActivationKind F>
class Activation : public Layer<T> {
public:
    std::string name() const override {
        switch (F) {
            case ActivationKind::relu: return "ReLU()";
            case ActivationKind::sigmoid: return "Sigmoid()";
            case ActivationKind::tanh: return "Tanh()";
        }
        return "Activation()";
    }
    Shape output_shape(const Shape& s) const override { return s; }

    const Array<T>& forward(const Array<T>& x) override {
        this->check_device(x);
        this->place(y_, x.shape());
        this->ops().activation_forward(F, x.data(), y_.data(), x.size());
        return y_;
    }

    const Array<T>& backward(const Array<T>& dy) override {
        this->check_grad_shape(dy, y_);
        if (!this->input_grad_) return this->no_input_grad_;
        this->place(dx_, y_.shape());
        this->ops().activation_backward(F, y_.data(), dy.data(), dx_.data(), y_.size());
        return dx_;
    }

private:
    Array<T> y_, dx_;
};

template <class T> using ReLU = Activation<T, ActivationKind::relu>;
template <class T> using Sigmoid = Activation<T, ActivationKind::sigmoid>;
template <class T> using Tanh = Activation<T, ActivationKind::tanh>;

// Which activation a layer is, if it is one (Sequential's fused evaluation asks).
template <class T>
std::optional<ActivationKind> activation_kind_of(const Layer<T>& l) {
    if (dynamic_cast<const ReLU<T>*>(&l)) return ActivationKind::relu;
    if (dynamic_cast<const Sigmoid<T>*>(&l)) return ActivationKind::sigmoid;
    if (dynamic_cast<const Tanh<T>*>(&l)) return ActivationKind::tanh;
    return std::nullopt;
}

}  // namespace ann
