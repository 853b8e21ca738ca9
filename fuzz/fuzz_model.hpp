#pragma once
// The small network the fuzz target loads files into, shared with make_corpus.cpp so the
// seed corpus holds files that load successfully (mutations then start from valid files).
#include "ann/layers/activations.hpp"
#include "ann/layers/linear.hpp"
#include "ann/layers/sequential.hpp"

namespace ann::fuzz {

inline constexpr const char* kArchitecture = "fuzz_net";

inline Sequential<float> make_model(std::uint64_t seed) {
    Rng rng(seed);
    Sequential<float> m;
    m.emplace<Linear<float>>(4, 3, true, rng);
    m.emplace<ReLU<float>>();
    m.emplace<Linear<float>>(3, 2, false, rng);
    return m;
}

}  // namespace ann::fuzz
