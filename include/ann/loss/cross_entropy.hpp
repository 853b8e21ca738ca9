#pragma once
// CrossEntropyLoss on logits and integer class targets, as torch.nn.CrossEntropyLoss
// (log-softmax + NLL fused, mean over the batch).
//   logits is (N, K), targets has N entries in [0, K).
// Stable for large logits: log-softmax is computed as z - max - log(sum(exp(z - max))).
// backward() returns dL/dlogits = (softmax - onehot) / N.
#include <cmath>
#include <vector>

#include "ann/core/error.hpp"
#include "ann/core/tensor.hpp"

namespace ann {

template <class T>
class CrossEntropyLoss {
public:
    template <class Targets>
    T forward(const Tensor<T>& logits, const Targets& targets) {
        if (logits.dimension() != 2)
            fail("CrossEntropyLoss: expected logits of shape (N, K), got ", shape_str(logits.shape()));
        const std::size_t N = logits.shape()[0], K = logits.shape()[1];
        if (static_cast<std::size_t>(std::size(targets)) != N)
            fail("CrossEntropyLoss: ", std::size(targets), " targets for ", N, " rows of logits");
        if (N == 0) fail("CrossEntropyLoss: empty batch");
        ensure_shape(prob_, {N, K});
        targets_.assign(std::begin(targets), std::end(targets));
        double total = 0;
        for (std::size_t n = 0; n < N; ++n) {
            const long t = static_cast<long>(targets_[n]);
            if (t < 0 || static_cast<std::size_t>(t) >= K)
                fail("CrossEntropyLoss: target ", t, " at row ", n, " is outside [0, ", K, ")");
            const T* z = logits.data() + n * K;
            T* p = prob_.data() + n * K;
            T m = z[0];
            for (std::size_t k = 1; k < K; ++k) m = std::max(m, z[k]);
            T sum = 0;
            for (std::size_t k = 0; k < K; ++k) sum += (p[k] = std::exp(z[k] - m));
            const T log_sum = std::log(sum);
            total += static_cast<double>(log_sum - (z[t] - m));
            for (std::size_t k = 0; k < K; ++k) p[k] /= sum;
        }
        return static_cast<T>(total / static_cast<double>(N));
    }

    const Tensor<T>& backward() {
        if (targets_.empty()) fail("CrossEntropyLoss: backward before forward");
        const std::size_t N = prob_.shape()[0], K = prob_.shape()[1];
        ensure_shape(grad_, {N, K});
        const T inv_n = T(1) / static_cast<T>(N);
        for (std::size_t n = 0; n < N; ++n)
            for (std::size_t k = 0; k < K; ++k)
                grad_.data()[n * K + k] =
                    (prob_.data()[n * K + k] - (static_cast<std::size_t>(targets_[n]) == k ? T(1) : T(0))) * inv_n;
        return grad_;
    }

    // Softmax probabilities of the last forward call.
    const Tensor<T>& probabilities() const { return prob_; }

private:
    Tensor<T> prob_, grad_;
    std::vector<long> targets_;
};

}  // namespace ann
