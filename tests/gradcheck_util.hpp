#pragma once
// The gradient check every layer test runs (test_gradcheck, test_layers_extra, test_batchnorm):
// random input in [-1, 1], ann::testing::gradcheck, one printed line per check, and the pass
// criterion of docs/extending.md (every relative error below 1e-6).
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>

#include "ann/ann.hpp"
#include "ann/testing/gradcheck.hpp"

namespace testutil {

template <class T = double>
ann::Tensor<T> random_tensor(const ann::Shape& s, ann::Rng& rng, double lo = -1, double hi = 1) {
    ann::Tensor<T> t = ann::Tensor<T>::from_shape(s);
    for (auto& v : t) v = static_cast<T>(rng.uniform(lo, hi));
    return t;
}

inline void check_gradients(ann::Layer<double>& layer, const ann::Shape& in, std::uint64_t seed) {
    ann::Rng rng(seed);
    const auto res = ann::testing::gradcheck(layer, random_tensor(in, rng), rng);
    INFO(layer.name() << " on " << ann::shape_str(in) << ": worst " << res.worst << " error " << res.max_error());
    // One line per check, so the largest error can be quoted without a debugger.
    std::printf("gradcheck %s on %s: max relative error %.3g (%s)\n", layer.name().c_str(),
                ann::shape_str(in).c_str(), res.max_error(), res.worst.c_str());
    CHECK(res.max_input_error < 1e-6);
    CHECK(res.max_param_error < 1e-6);
}

}  // namespace testutil
