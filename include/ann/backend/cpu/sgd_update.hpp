#pragma once
// The SGD update on the CPU (see Backend::sgd_update for the contract). One loop per combination
// of the step's switches, chosen once per call, so each stays a plain loop the compiler vectorises.
#include <cstddef>

#include "ann/backend/backend.hpp"

namespace ann::cpu {

template <bool Decay, bool Momentum, bool Nesterov, class T>
void sgd_loop(T* w, const T* g, T* buf, std::size_t n, const SgdStep<T>& h, bool first) {
    const T lr = h.lr, mu = h.momentum, wd = h.weight_decay;
    for (std::size_t j = 0; j < n; ++j) {
        T d = g[j];
        if constexpr (Decay) d = d + wd * w[j];
        if constexpr (Momentum) {
            const T b = first ? d : mu * buf[j] + d;
            buf[j] = b;
            if constexpr (Nesterov)
                d = d + mu * b;
            else
                d = b;
        }
        w[j] -= lr * d;
    }
}

template <bool Decay, class T>
void sgd_dispatch(T* w, const T* g, T* buf, std::size_t n, const SgdStep<T>& h, bool first) {
    if (!buf)
        sgd_loop<Decay, false, false>(w, g, buf, n, h, first);
    else if (h.nesterov)
        sgd_loop<Decay, true, true>(w, g, buf, n, h, first);
    else
        sgd_loop<Decay, true, false>(w, g, buf, n, h, first);
}

template <class T>
void sgd_update(T* w, const T* g, T* buf, std::size_t n, const SgdStep<T>& h, bool first) {
    if (h.weight_decay != T(0))
        sgd_dispatch<true>(w, g, buf, n, h, first);
    else
        sgd_dispatch<false>(w, g, buf, n, h, first);
}

}  // namespace ann::cpu
