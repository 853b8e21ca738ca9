#pragma once
// CrossEntropyLoss on logits and integer class targets, as torch.nn.CrossEntropyLoss
// (log-softmax + NLL fused, mean over the batch).
//   logits is (N, K) on any device, targets has N host entries in [0, K).
// The arithmetic is the backend's softmax_xent primitive (stable for large logits); the mean
// and the target checks are here, once for every device.
// backward() returns dL/dlogits = (softmax - onehot) / N, on the logits' device.
// forward_shard: the same for one process's share of a data-parallel batch.
#include <vector>

#include "ann/backend/registry.hpp"
#include "ann/core/array.hpp"
#include "ann/core/error.hpp"

namespace ann {

template <class T>
class CrossEntropyLoss {
public:
    template <class Targets>
    T forward(const Array<T>& logits, const Targets& targets) {
        const double total = forward_shard(logits, targets, logits.dimension() == 2 ? logits.dim(0) : 0);
        return static_cast<T>(total / static_cast<double>(logits.dim(0)));
    }

    // Data-parallel training (train/collective.hpp): these N rows are one process's shard of a
    // global batch of `global_n` rows. Returns the sum of the shard's per-row losses (double, rows
    // in order; the global mean is the sum over shards / global_n), and backward() then returns
    // (softmax - onehot) / global_n: this shard's rows of the gradient of the global mean.
    template <class Targets>
    double forward_shard(const Array<T>& logits, const Targets& targets, std::size_t global_n) {
        if (logits.dimension() != 2)
            fail("CrossEntropyLoss: expected logits of shape (N, K), got ", shape_str(logits.shape()));
        const std::size_t N = logits.dim(0), K = logits.dim(1);
        if (static_cast<std::size_t>(std::size(targets)) != N)
            fail("CrossEntropyLoss: ", std::size(targets), " targets for ", N, " rows of logits");
        if (N == 0) fail("CrossEntropyLoss: empty batch");
        if (global_n < N) fail("CrossEntropyLoss: a shard of ", N, " rows of a global batch of ", global_n);
        targets_.assign(std::begin(targets), std::end(targets));
        for (std::size_t n = 0; n < N; ++n)
            if (targets_[n] < 0 || static_cast<std::size_t>(targets_[n]) >= K)
                fail("CrossEntropyLoss: target ", targets_[n], " at row ", n, " is outside [0, ", K, ")");
        prob_.ensure({N, K}, logits.device());
        divisor_ = global_n;
        return backend<T>(logits.device()).softmax_xent_forward(logits.data(), targets_.data(), N, K, prob_.data());
    }

    const Array<T>& backward() {
        if (targets_.empty()) fail("CrossEntropyLoss: backward before forward");
        const std::size_t N = prob_.dim(0), K = prob_.dim(1);
        grad_.ensure({N, K}, prob_.device());
        backend<T>(prob_.device()).softmax_xent_backward(prob_.data(), targets_.data(), N, K, divisor_, grad_.data());
        return grad_;
    }

    // Softmax probabilities of the last forward call.
    const Array<T>& probabilities() const { return prob_; }

private:
    Array<T> prob_, grad_;
    std::vector<long> targets_;
    std::size_t divisor_ = 1;
};

}  // namespace ann
