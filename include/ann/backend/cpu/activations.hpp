#pragma once
// Element-wise activations on the CPU. Each derivative is computed from the OUTPUT y:
//   ReLU:    y = max(0, x)       dy/dx = [y > 0]
//   Sigmoid: y = 1/(1+e^-x)      dy/dx = y (1 - y)
//   Tanh:    y = tanh(x)         dy/dx = 1 - y^2
#include <cmath>
#include <cstddef>

#include "ann/backend/backend.hpp"
#include "ann/backend/cpu/thread_pool.hpp"

namespace ann::cpu {

struct ReluOp {
    template <class T> static T f(T x) { return x > T(0) ? x : T(0); }
    template <class T> static T df_from_y(T y) { return y > T(0) ? T(1) : T(0); }
};
struct SigmoidOp {
    template <class T> static T f(T x) {
        // Two branches so exp never overflows for large |x|.
        if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
        const T e = std::exp(x);
        return e / (T(1) + e);
    }
    template <class T> static T df_from_y(T y) { return y * (T(1) - y); }
};
struct TanhOp {
    template <class T> static T f(T x) { return std::tanh(x); }
    template <class T> static T df_from_y(T y) { return T(1) - y * y; }
};

// Below this many elements one thread is faster than waking the pool.
constexpr std::size_t kMinParallelElementwise = std::size_t(1) << 15;

// One thread's share (also what the fused evaluation pass runs on one image, conv_fused.hpp):
// element by element the same operations whoever runs them, so the same bits.
template <class Op, class T>
void activation_forward_serial(const T* x, T* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = Op::f(x[i]);
}

template <class T>
void activation_forward_serial(ActivationKind f, const T* x, T* y, std::size_t n) {
    switch (f) {
        case ActivationKind::relu: return activation_forward_serial<ReluOp>(x, y, n);
        case ActivationKind::sigmoid: return activation_forward_serial<SigmoidOp>(x, y, n);
        case ActivationKind::tanh: return activation_forward_serial<TanhOp>(x, y, n);
    }
}

template <class Op, class T>
void activation_forward(const T* x, T* y, std::size_t n) {
    parallel_for(n, [&](std::size_t lo, std::size_t hi) {
        activation_forward_serial<Op>(x + lo, y + lo, hi - lo);
    }, kMinParallelElementwise);
}

template <class Op, class T>
void activation_backward(const T* y, const T* dy, T* dx, std::size_t n) {
    parallel_for(n, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i) dx[i] = dy[i] * Op::df_from_y(y[i]);
    }, kMinParallelElementwise);
}

template <class T>
void activation_forward(ActivationKind f, const T* x, T* y, std::size_t n) {
    switch (f) {
        case ActivationKind::relu: return activation_forward<ReluOp>(x, y, n);
        case ActivationKind::sigmoid: return activation_forward<SigmoidOp>(x, y, n);
        case ActivationKind::tanh: return activation_forward<TanhOp>(x, y, n);
    }
}

template <class T>
void activation_backward(ActivationKind f, const T* y, const T* dy, T* dx, std::size_t n) {
    switch (f) {
        case ActivationKind::relu: return activation_backward<ReluOp>(y, dy, dx, n);
        case ActivationKind::sigmoid: return activation_backward<SigmoidOp>(y, dy, dx, n);
        case ActivationKind::tanh: return activation_backward<TanhOp>(y, dy, dx, n);
    }
}

}  // namespace ann::cpu
