#pragma once
// LeakyReLU on the CPU (see Backend::leaky_relu_forward for the contract).
#include <cstddef>

#include "ann/backend/cpu/activations.hpp"
#include "ann/backend/cpu/thread_pool.hpp"

namespace ann::cpu {

template <class T>
void leaky_relu_forward(const T* x, T* y, std::size_t n, T slope) {
    parallel_for(n, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i) y[i] = x[i] > T(0) ? x[i] : x[i] * slope;
    }, kMinParallelElementwise);
}

// x may be the forward's output when slope >= 0 (the sign test is the same).
template <class T>
void leaky_relu_backward(const T* x, const T* dy, T* dx, std::size_t n, T slope) {
    parallel_for(n, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i) dx[i] = x[i] > T(0) ? dy[i] : dy[i] * slope;
    }, kMinParallelElementwise);
}

}  // namespace ann::cpu
