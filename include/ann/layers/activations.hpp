#pragma once
// Element-wise activations. Each keeps its OUTPUT, from which its derivative follows:
//   ReLU:    y = max(0, x)       dy/dx = [y > 0]
//   Sigmoid: y = 1/(1+e^-x)      dy/dx = y (1 - y)
//   Tanh:    y = tanh(x)         dy/dx = 1 - y^2
// Any shape is accepted; the output has the input's shape.
#include <cmath>

#include "ann/backend/cpu/thread_pool.hpp"
#include "ann/layers/layer.hpp"

namespace ann {

struct ReluOp {
    static constexpr const char* name = "ReLU";
    template <class T> static T f(T x) { return x > T(0) ? x : T(0); }
    template <class T> static T df_from_y(T y) { return y > T(0) ? T(1) : T(0); }
};
struct SigmoidOp {
    static constexpr const char* name = "Sigmoid";
    template <class T> static T f(T x) {
        // Two branches so exp never overflows for large |x|.
        if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
        const T e = std::exp(x);
        return e / (T(1) + e);
    }
    template <class T> static T df_from_y(T y) { return y * (T(1) - y); }
};
struct TanhOp {
    static constexpr const char* name = "Tanh";
    template <class T> static T f(T x) { return std::tanh(x); }
    template <class T> static T df_from_y(T y) { return T(1) - y * y; }
};

template <class T, class Op>
class Activation : public Layer<T> {
public:
    std::string name() const override { return std::string(Op::name) + "()"; }
    Shape output_shape(const Shape& s) const override { return s; }

    const Tensor<T>& forward(const Tensor<T>& x) override {
        ensure_shape(y_, shape_of(x));
        const T* xd = x.data();
        T* yd = y_.data();
        cpu::parallel_for(x.size(), [&](std::size_t lo, std::size_t hi) {
            for (std::size_t i = lo; i < hi; ++i) yd[i] = Op::f(xd[i]);
        }, kMinParallel);
        return y_;
    }

    const Tensor<T>& backward(const Tensor<T>& dy) override {
        this->check_grad_shape(dy, y_);
        ensure_shape(dx_, shape_of(y_));
        const T* yd = y_.data();
        const T* g = dy.data();
        T* dx = dx_.data();
        cpu::parallel_for(y_.size(), [&](std::size_t lo, std::size_t hi) {
            for (std::size_t i = lo; i < hi; ++i) dx[i] = g[i] * Op::df_from_y(yd[i]);
        }, kMinParallel);
        return dx_;
    }

private:
    // Below this many elements one thread is faster than waking the pool.
    static constexpr std::size_t kMinParallel = std::size_t(1) << 15;
    Tensor<T> y_, dx_;
};

template <class T> using ReLU = Activation<T, ReluOp>;
template <class T> using Sigmoid = Activation<T, SigmoidOp>;
template <class T> using Tanh = Activation<T, TanhOp>;

}  // namespace ann
