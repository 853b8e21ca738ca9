#pragma once
// PyTorch's default initialisation for Linear and Conv2d:
//   weight ~ kaiming_uniform(a = sqrt(5))  ==  U(-1/sqrt(fan_in), +1/sqrt(fan_in))
//   bias   ~ U(-1/sqrt(fan_in), +1/sqrt(fan_in))
// (gain = sqrt(2 / (1 + a^2)) = sqrt(1/3), bound = sqrt(3) * gain / sqrt(fan_in)).
#include <cmath>

#include "ann/core/array.hpp"
#include "ann/core/rng.hpp"
#include "ann/core/tensor.hpp"

namespace ann {

template <class T>
void uniform_(Tensor<T>& t, double lo, double hi, Rng& rng) {
    for (auto& v : t) v = static_cast<T>(rng.uniform(lo, hi));
}

template <class T>
void kaiming_uniform_default_(Tensor<T>& w, std::size_t fan_in, Rng& rng) {
    const double a = std::sqrt(5.0);
    const double gain = std::sqrt(2.0 / (1.0 + a * a));
    const double bound = std::sqrt(3.0) * gain / std::sqrt(static_cast<double>(fan_in));
    uniform_(w, -bound, bound, rng);
}

template <class T>
void bias_uniform_default_(Tensor<T>& b, std::size_t fan_in, Rng& rng) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    uniform_(b, -bound, bound, rng);
}

// The same on an Array of any device: drawn on the host (so a model's initial weights depend
// only on the Rng, never on the device), then copied where the array lives.
template <class T, class Init>
void init_on_host(Array<T>& a, Init&& init) {
    if (a.device() == Device::cpu) return init(a.host());
    Tensor<T> h = Tensor<T>::from_shape(a.shape());
    init(h);
    a.copy_from(Array<T>(std::move(h)));
}
template <class T>
void kaiming_uniform_default_(Array<T>& w, std::size_t fan_in, Rng& rng) {
    init_on_host(w, [&](Tensor<T>& h) { kaiming_uniform_default_(h, fan_in, rng); });
}
template <class T>
void bias_uniform_default_(Array<T>& b, std::size_t fan_in, Rng& rng) {
    init_on_host(b, [&](Tensor<T>& h) { bias_uniform_default_(h, fan_in, rng); });
}

}  // namespace ann
