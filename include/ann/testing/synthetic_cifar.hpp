#pragma once
// A CIFAR-shaped image set made in memory, for tests and benchmarks that need no data files:
// image i has class i % 10, encoded in its mean brightness (so a network can learn it), plus noise
// from the seed. The same (n, seed) gives the same set on every machine and every MPI rank.
#include <cstddef>
#include <cstdint>

#include "ann/core/rng.hpp"
#include "ann/data/cifar10.hpp"

namespace ann::testing {

inline data::CifarSet synthetic_cifar(std::size_t n, std::uint64_t seed) {
    data::CifarSet s;
    Rng r(seed);
    s.labels.resize(n);
    s.pixels.resize(n * data::kCifarImageBytes);
    for (std::size_t i = 0; i < n; ++i) {
        s.labels[i] = static_cast<std::uint8_t>(i % 10);
        for (std::size_t k = 0; k < data::kCifarImageBytes; ++k)
            s.pixels[i * data::kCifarImageBytes + k] = static_cast<std::uint8_t>(s.labels[i] * 20 + r.below(60));
    }
    return s;
}

}  // namespace ann::testing
