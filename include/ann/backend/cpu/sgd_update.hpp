#pragma once
// The SGD update on the CPU (see Backend::sgd_update for the contract).
#include <algorithm>
#include <cstddef>

namespace ann::cpu {

template <class T>
void sgd_update(T* w, const T* g, T* buf, std::size_t n, T lr, T mu, bool first) {
    if (!buf) {
        for (std::size_t j = 0; j < n; ++j) w[j] -= lr * g[j];
        return;
    }
    if (first)
        std::copy(g, g + n, buf);
    else
        for (std::size_t j = 0; j < n; ++j) buf[j] = mu * buf[j] + g[j];
    for (std::size_t j = 0; j < n; ++j) w[j] -= lr * buf[j];
}

}  // namespace ann::cpu
