#pragma once
// Class-balanced splits, reproducible from a seed (and portable: ann::Rng's shuffle).
// Algorithm (tools/cifar_reference.py repeats it exactly, so PyTorch sees the same split):
//   rng = Rng(seed); for c in 0..K-1: idx_c = indices of class c in ascending order;
//   rng.shuffle(idx_c); the first per_class of idx_c are held out.
// Both index lists are returned sorted.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "ann/core/error.hpp"
#include "ann/core/rng.hpp"

namespace ann::data {

using Indices = std::vector<std::uint32_t>;

struct Split {
    Indices kept;      // e.g. the training set
    Indices held_out;  // e.g. the validation set, per_class images of every class
};

// Splits the images `from` (indices into labels; all of them if empty) so that held_out has
// exactly per_class images of every class in [0, classes).
inline Split stratified_split(const std::vector<std::uint8_t>& labels, std::size_t per_class, std::uint64_t seed,
                              std::size_t classes = 10, const Indices& from = {}) {
    std::vector<Indices> by_class(classes);
    auto add = [&](std::uint32_t i) {
        if (labels[i] >= classes) fail("stratified_split: label ", int(labels[i]), " at ", i, " >= ", classes);
        by_class[labels[i]].push_back(i);
    };
    if (from.empty())
        for (std::uint32_t i = 0; i < labels.size(); ++i) add(i);
    else
        for (auto i : from) {
            if (i >= labels.size()) fail("stratified_split: index ", i, " out of range (", labels.size(), " labels)");
            add(i);
        }
    Rng rng(seed);
    Split s;
    for (std::size_t c = 0; c < classes; ++c) {
        auto& v = by_class[c];
        std::sort(v.begin(), v.end());
        if (v.size() < per_class)
            fail("stratified_split: class ", c, " has ", v.size(), " images, fewer than the ", per_class, " asked for");
        rng.shuffle(v.begin(), v.end());
        s.held_out.insert(s.held_out.end(), v.begin(), v.begin() + static_cast<long>(per_class));
        s.kept.insert(s.kept.end(), v.begin() + static_cast<long>(per_class), v.end());
    }
    std::sort(s.held_out.begin(), s.held_out.end());
    std::sort(s.kept.begin(), s.kept.end());
    return s;
}

// A class-balanced subset of per_class images of every class (for --quick runs and for the
// fixed subset of the training set on which training accuracy is measured).
inline Indices balanced_subset(const std::vector<std::uint8_t>& labels, const Indices& from, std::size_t per_class,
                               std::uint64_t seed, std::size_t classes = 10) {
    return stratified_split(labels, per_class, seed, classes, from).held_out;
}

// Counts of each class among labels[idx].
inline std::vector<std::size_t> class_counts(const std::vector<std::uint8_t>& labels, const Indices& idx,
                                             std::size_t classes = 10) {
    std::vector<std::size_t> n(classes, 0);
    for (auto i : idx) ++n.at(labels.at(i));
    return n;
}

}  // namespace ann::data
