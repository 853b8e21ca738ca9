#pragma once
// Classification accuracy in evaluation mode, in percent.
//
// An Evaluator owns a second copy of the architecture, put in eval mode and on the trained
// model's device, into which the trained model's parameters (and buffers) are copied before each
// evaluation.
// The logits come back to the host (N x 10 values per batch), where the argmax is taken by the
// same code for every device. This keeps the training
// model's buffers sized for the training batch (no reallocation when training and
// evaluation alternate every 10 steps) and lets evaluation use its own, larger batch.
#include <algorithm>
#include <functional>
#include <vector>

#include "ann/data/batches.hpp"
#include "ann/layers/sequential.hpp"
#include "ann/train/collective.hpp"

namespace ann::train {

// Copies parameter and buffer values (BatchNorm2d's running statistics: what eval mode uses)
// from src to dst (same architecture, any devices).
template <class T>
void copy_parameters(Sequential<T>& src, Sequential<T>& dst) {
    auto copy = [](const auto& s, const auto& d, const char* what) {
        if (s.size() != d.size()) fail("copy_parameters: ", s.size(), " ", what, "s into ", d.size());
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (s[i]->size() != d[i]->size())
                fail("copy_parameters: ", what, " ", i, " has ", s[i]->size(), " values, target has ", d[i]->size());
            d[i]->value.copy_from(s[i]->value);
        }
    };
    copy(src.parameters(), dst.parameters(), "parameter");
    copy(src.buffers(), dst.buffers(), "buffer");
}

// Index of the largest logit of each row (the first one on ties, like torch.argmax).
template <class T>
long argmax_row(const T* z, std::size_t K) {
    std::size_t best = 0;
    for (std::size_t k = 1; k < K; ++k)
        if (z[k] > z[best]) best = k;
    return static_cast<long>(best);
}

template <class T>
class Evaluator {
public:
    // `model` is a fresh instance of the trained architecture; batch is the evaluation batch.
    Evaluator(Sequential<T> model, std::size_t batch) : model_(std::move(model)), batch_(batch) {
        if (batch_ == 0) fail("Evaluator: batch size must be positive");
        model_.eval();
    }

    // Accuracy (percent) of `trained` on set[idx]. With a Collective (data-parallel), each
    // process evaluates its shard of idx and the correct counts are summed: every process gets
    // the accuracy of the whole list.
    double accuracy(Sequential<T>& trained, const data::CifarSet& set, const data::Indices& idx,
                    Collective* team = nullptr) {
        if (idx.empty()) fail("Evaluator: empty image list");
        if (model_.device() != trained.device()) model_.to(trained.device());
        copy_parameters(trained, model_);
        const auto [lo, hi] = team ? shard_range(idx.size(), team->rank(), team->size())
                                   : std::pair<std::size_t, std::size_t>{0, idx.size()};
        std::size_t correct = 0;
        for (std::size_t start = lo; start < hi; start += batch_) {
            const std::size_t n = std::min(batch_, hi - start);
            data::fill_batch(set, idx.data() + start, n, x_, y_);
// GCC 12 reports "'this' pointer is null" for this call once Sequential::forward is inlined here
// (a false positive of its jump threading: model_ is a member).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnonnull"
#endif
            const Array<T>& logits = model_.forward(staged_on(model_.device(), x_, x_device_));
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
            Tensor<T> copy;
            const T* z = logits.host_values(copy).data();
            const std::size_t K = logits.dim(1);
            for (std::size_t b = 0; b < n; ++b) correct += argmax_row(z + b * K, K) == y_[b];
        }
        double total = static_cast<double>(correct);  // exact: counts are far below 2^53
        if (team) team->sum(&total, 1);
        return 100.0 * total / static_cast<double>(idx.size());
    }

private:
    Sequential<T> model_;
    std::size_t batch_;
    Array<T> x_, x_device_;
    std::vector<long> y_;
};

}  // namespace ann::train
