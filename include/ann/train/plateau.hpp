#pragma once
// "The epoch where the accuracy stops increasing", as a rule on a recorded curve (homework
// part 5's scheduled learning rate):
//   1. average the records taken during each epoch: m_k for epochs k = 1, 2, ...
//      (record i was taken at step i*every, which lies in epoch floor(i*every / steps_per_epoch) + 1);
//   2. among epochs k > from_epoch, find the best mean, best = max m_k;
//   3. the answer is the first epoch k > from_epoch with m_k >= best - tol (percentage points).
// Averaging over an epoch removes most of the step-to-step noise; the tolerance keeps a slow,
// small drift upwards on a plateau from counting as "still increasing".
#include <algorithm>
#include <cstddef>
#include <vector>

#include "ann/core/error.hpp"

namespace ann::train {

inline std::vector<double> epoch_means(const std::vector<double>& curve, std::size_t steps_per_epoch, std::size_t every) {
    if (steps_per_epoch == 0 || every == 0) fail("epoch_means: steps_per_epoch and every must be positive");
    std::vector<double> sum, count;
    for (std::size_t i = 0; i < curve.size(); ++i) {
        const std::size_t e = (i * every) / steps_per_epoch;
        if (e >= sum.size()) sum.resize(e + 1, 0.0), count.resize(e + 1, 0.0);
        sum[e] += curve[i];
        count[e] += 1;
    }
    for (std::size_t e = 0; e < sum.size(); ++e) sum[e] = count[e] > 0 ? sum[e] / count[e] : 0.0;
    return sum;  // sum[k-1] = m_k
}

// The epoch (1-based count of epochs trained) where the curve stops increasing, per the rule above.
inline std::size_t plateau_epoch(const std::vector<double>& curve, std::size_t steps_per_epoch, std::size_t every,
                                 std::size_t from_epoch = 0, double tol = 0.5) {
    const auto m = epoch_means(curve, steps_per_epoch, every);
    if (m.size() <= from_epoch) fail("plateau_epoch: the curve covers ", m.size(), " epochs, none after epoch ", from_epoch);
    double best = m[from_epoch];
    for (std::size_t k = from_epoch; k < m.size(); ++k) best = std::max(best, m[k]);
    for (std::size_t k = from_epoch; k < m.size(); ++k)
        if (m[k] >= best - tol) return k + 1;
    return m.size();
}

}  // namespace ann::train
