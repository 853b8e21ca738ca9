#pragma once
// Dropout's random mask as a pure function, computed the same way by both backends (so a GPU run
// and a CPU run drop the same elements):
//   keep(seed, k, i) = (h >> 11) < keep_below,   h = mix(mix(seed + (k+1) G) + (i+1) G)
// with mix the SplitMix64 finalizer and G its increment (the golden ratio in 64 bits): the inner
// term is the k-th output of a SplitMix64 stream seeded with `seed` (one key per forward), the
// outer one the i-th output of a stream seeded with that key. keep_below = floor((1-p) 2^53), so
// an element is kept with probability (1-p) up to 2^-53; p = 0 keeps all, p = 1 none.
//
// The layer keeps seed and k in Buffer<T>s (layers/dropout.hpp) so model files carry them; as
// floating-point numbers they are split into pieces every float holds exactly:
//   seed: 4 elements of 16 bits, lowest first;   k: 2 elements of 20 bits, lowest first.
// An element outside its range (only a damaged or hand-edited file has one) reads as 0.
#include <cstdint>

#include "ann/backend/host_device.hpp"

namespace ann::shared {

constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ull;
constexpr int kSeedPieces = 4, kSeedPieceBits = 16;
constexpr int kCounterPieces = 2, kCounterPieceBits = 20;
constexpr std::uint64_t kCounterPeriod = std::uint64_t(1) << (kCounterPieces * kCounterPieceBits);  // k wraps here

ANN_HOST_DEVICE inline std::uint64_t splitmix64_mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// The key of forward k; element i is kept iff dropout_keep(key, i, keep_below).
ANN_HOST_DEVICE inline std::uint64_t dropout_key(std::uint64_t seed, std::uint64_t k) {
    return splitmix64_mix(seed + (k + 1) * kGolden);
}
ANN_HOST_DEVICE inline bool dropout_keep(std::uint64_t key, std::uint64_t i, std::uint64_t keep_below) {
    return (splitmix64_mix(key + (i + 1) * kGolden) >> 11) < keep_below;
}

// floor((1 - p) 2^53) for p in [0, 1] (the product is exact: a power of two).
inline std::uint64_t dropout_keep_below(double p) {
    return static_cast<std::uint64_t>((1.0 - p) * 9007199254740992.0);
}

// Integers stored as pieces of `bits` bits in floating-point elements, lowest first.
template <class T>
ANN_HOST_DEVICE std::uint64_t decode_pieces(const T* v, int pieces, int bits) {
    const T limit = T(std::uint64_t(1) << bits);
    std::uint64_t out = 0;
    for (int j = 0; j < pieces; ++j) {
        const T e = v[j];
        const std::uint64_t piece = (e >= T(0) && e < limit) ? static_cast<std::uint64_t>(e) : 0;  // NaN: 0
        out |= piece << (j * bits);
    }
    return out;
}
template <class T>
ANN_HOST_DEVICE void encode_pieces(std::uint64_t value, T* v, int pieces, int bits) {
    const std::uint64_t mask = (std::uint64_t(1) << bits) - 1;
    for (int j = 0; j < pieces; ++j) v[j] = T((value >> (j * bits)) & mask);
}

}  // namespace ann::shared
