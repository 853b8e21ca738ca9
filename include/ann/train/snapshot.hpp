#pragma once
// A run's state after an epoch, in memory: parameter values, the order Rng, the counters and
// the curves. Restoring it into a run of the same architecture continues exactly where the
// snapshot was taken (tests/test_train.cpp checks it bit for bit), so a "fresh network trained
// again with the same seed up to epoch e" can start from the snapshot instead.
// Optimizer state is not included: valid for SGD without momentum (stateless), which is
// where the homework uses it (part 5's scheduled learning rate).
#include <map>
#include <string>
#include <vector>

#include "ann/train/run.hpp"

namespace ann::train {

template <class T>
struct Snapshot {
    std::vector<std::vector<T>> params;
    Rng rng;
    std::size_t epoch = 0, step = 0;
    std::map<std::string, std::vector<double>> curves;
    double seconds = 0;
};

template <class T>
Snapshot<T> take_snapshot(Run<T>& r) {
    Snapshot<T> s;
    for (auto* p : r.model.parameters()) s.params.emplace_back(p->value.begin(), p->value.end());
    s.rng = r.rng;
    s.epoch = r.epoch, s.step = r.step, s.curves = r.curves, s.seconds = r.seconds;
    return s;
}

template <class T>
void restore_snapshot(Run<T>& r, const Snapshot<T>& s) {
    auto ps = r.model.parameters();
    if (ps.size() != s.params.size())
        fail(r.label, ": snapshot has ", s.params.size(), " parameters, the model ", ps.size());
    for (std::size_t i = 0; i < ps.size(); ++i) {
        if (ps[i]->size() != s.params[i].size())
            fail(r.label, ": snapshot parameter ", i, " has ", s.params[i].size(), " values, the model ", ps[i]->size());
        std::copy(s.params[i].begin(), s.params[i].end(), ps[i]->value.begin());
    }
    r.rng = s.rng;
    r.epoch = s.epoch, r.step = s.step, r.curves = s.curves, r.seconds = s.seconds;
}

}  // namespace ann::train
