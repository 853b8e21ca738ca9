#pragma once
// What the CPU convolution kernel tests share: random inputs, restoring the thread count, and a
// forward + backward-data pass through the dispatch (conv2d.hpp) whose bits must not depend on it.
#include <vector>

#include "ann/backend/cpu/conv2d.hpp"
#include "ann/core/rng.hpp"

namespace conv_test {

inline std::vector<float> random_vec(std::size_t n, ann::Rng& rng) {
    std::vector<float> v(n);
    for (auto& e : v) e = static_cast<float>(rng.uniform(-1, 1));
    return v;
}

struct KeepThreads {
    int saved = ann::cpu::num_threads();
    ~KeepThreads() { ann::cpu::set_num_threads(saved); }
};

// y then dx of N images through conv2d_forward and conv2d_backward_data at `threads` threads.
inline std::vector<float> dispatch_bits(int N, const ann::cpu::ConvGeometry& g, int O, int threads) {
    ann::Rng rng(4);
    const auto x = random_vec(std::size_t(N) * g.C * g.H * g.W, rng);
    const auto w = random_vec(std::size_t(O) * g.rows(), rng);
    const auto dy = random_vec(std::size_t(N) * O * g.cols(), rng);
    ann::cpu::set_num_threads(threads);
    ann::cpu::ConvWorkspace<float> ws;
    std::vector<float> y(dy.size()), dx(x.size());
    ann::cpu::conv2d_forward(x.data(), w.data(), w.data(), y.data(), N, O, g, ws);
    ann::cpu::conv2d_backward_data(dy.data(), w.data(), dx.data(), N, O, g, ws);
    y.insert(y.end(), dx.begin(), dx.end());
    return y;
}

}  // namespace conv_test
