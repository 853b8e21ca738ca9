#pragma once
// Dropout on the CPU (see Backend::dropout_mask and dropout_apply): every mask element is a pure
// function of (seed, k, i) (backend/dropout_hash.hpp), so the thread split cannot change it.
#include <cstddef>
#include <cstdint>

#include "ann/backend/cpu/activations.hpp"
#include "ann/backend/cpu/thread_pool.hpp"
#include "ann/backend/dropout_hash.hpp"

namespace ann::cpu {

template <class T>
void dropout_mask(std::uint8_t* mask, std::size_t n, std::size_t first, const T* seed, T* counter,
                  std::uint64_t keep_below) {
    using namespace shared;
    const std::uint64_t s = decode_pieces(seed, kSeedPieces, kSeedPieceBits);
    const std::uint64_t k = decode_pieces(counter, kCounterPieces, kCounterPieceBits);
    const std::uint64_t key = dropout_key(s, k);
    parallel_for(n, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i) mask[i] = dropout_keep(key, first + i, keep_below) ? 1 : 0;
    }, kMinParallelElementwise);
    encode_pieces((k + 1) % kCounterPeriod, counter, kCounterPieces, kCounterPieceBits);
}

template <class T>
void dropout_apply(const T* x, const std::uint8_t* mask, T scale, T* y, std::size_t n) {
    parallel_for(n, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t i = lo; i < hi; ++i) y[i] = x[i] * (mask[i] ? scale : T(0));
    }, kMinParallelElementwise);
}

}  // namespace ann::cpu
