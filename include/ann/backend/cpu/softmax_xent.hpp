#pragma once
// Softmax cross-entropy on the CPU (see Backend::softmax_xent_forward for the contract).
// Stable for large logits: log-softmax is computed as z - max - log(sum(exp(z - max))).
#include <algorithm>
#include <cmath>
#include <cstddef>

namespace ann::cpu {

template <class T>
double softmax_xent_forward(const T* logits, const long* targets, std::size_t N, std::size_t K, T* prob) {
    double total = 0;
    for (std::size_t n = 0; n < N; ++n) {
        const T* z = logits + n * K;
        T* p = prob + n * K;
        T m = z[0];
        for (std::size_t k = 1; k < K; ++k) m = std::max(m, z[k]);
        T sum = 0;
        for (std::size_t k = 0; k < K; ++k) sum += (p[k] = std::exp(z[k] - m));
        const T log_sum = std::log(sum);
        total += static_cast<double>(log_sum - (z[targets[n]] - m));
        for (std::size_t k = 0; k < K; ++k) p[k] /= sum;
    }
    return total;
}

template <class T>
void softmax_xent_backward(const T* prob, const long* targets, std::size_t N, std::size_t K, std::size_t divisor,
                           T* grad) {
    const T inv_n = T(1) / static_cast<T>(divisor);
    for (std::size_t n = 0; n < N; ++n)
        for (std::size_t k = 0; k < K; ++k)
            grad[n * K + k] = (prob[n * K + k] - (static_cast<std::size_t>(targets[n]) == k ? T(1) : T(0))) * inv_n;
}

}  // namespace ann::cpu
