#pragma once
// Turning uint8 CIFAR images into float batches, and the per-epoch batch order.
//   x is (N, 3, 32, 32) with values pixel / 255 in [0, 1] (torchvision's ToTensor), y has N labels.
#include <cstdint>
#include <vector>

#include "ann/backend/cpu/thread_pool.hpp"
#include "ann/core/array.hpp"
#include "ann/core/rng.hpp"
#include "ann/core/tensor.hpp"
#include "ann/data/cifar10.hpp"
#include "ann/data/split.hpp"

namespace ann::data {

// Fills x (on the host) and y with the images set[idx[0..n)]. x keeps its buffer when the batch
// size repeats. The scaling happens here, on the host, for every device: a GPU model gets
// these very values (copied with Array::to / staged_on), never a second formula.
template <class T>
void fill_batch(const CifarSet& set, const std::uint32_t* idx, std::size_t n, Array<T>& x, std::vector<long>& y) {
    x.ensure({n, 3, 32, 32}, Device::cpu);
    y.resize(n);
    for (std::size_t b = 0; b < n; ++b) {
        if (idx[b] >= set.size()) fail("fill_batch: image index ", idx[b], " out of range (", set.size(), " images)");
        y[b] = set.labels[idx[b]];
    }
    // Images over the pool's threads: 300k conversions per evaluation batch are ~10% of a fast
    // forward pass. Each value is the same division whoever computes it.
    T* out = x.data();
    cpu::parallel_for(n, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t b = lo; b < hi; ++b) {
            const std::uint8_t* px = set.image(idx[b]);
            T* o = out + b * kCifarImageBytes;
            for (std::size_t k = 0; k < kCifarImageBytes; ++k) o[k] = static_cast<T>(px[k]) / T(255);
        }
    }, 8);
}

// The order of one epoch: `images` shuffled by rng (PyTorch's DataLoader(shuffle=True)).
// The order depends only on the rng's state, so a run resumed from a saved rng repeats it.
inline Indices epoch_order(const Indices& images, Rng& rng) {
    Indices order = images;
    rng.shuffle(order.begin(), order.end());
    return order;
}

// Batches of `batch` images over `order`; the last one may be smaller (drop_last=False).
inline std::size_t num_batches(std::size_t n, std::size_t batch) { return (n + batch - 1) / batch; }

}  // namespace ann::data
