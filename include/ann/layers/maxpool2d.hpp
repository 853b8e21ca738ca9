#pragma once
// MaxPool2d without padding (floor mode), as torch.nn.MaxPool2d(kernel, stride).
//   x is (N, C, H, W), y is (N, C, (H-k)/s+1, (W-k)/s+1).
// Forward records the flat index of each window's maximum (the first one on ties, like
// PyTorch), so backward routes each gradient to exactly that input.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ann/backend/cpu/thread_pool.hpp"
#include "ann/layers/layer.hpp"

namespace ann {

template <class T>
class MaxPool2d : public Layer<T> {
public:
    explicit MaxPool2d(std::size_t kernel_size = 2, std::size_t stride = 0)
        : k_(kernel_size), s_(stride == 0 ? kernel_size : stride) {
        if (k_ == 0) fail("MaxPool2d: kernel_size must be positive");
    }

    std::string name() const override {
        return "MaxPool2d(kernel_size=" + std::to_string(k_) + ", stride=" + std::to_string(s_) + ")";
    }

    Shape output_shape(const Shape& s) const override {
        if (s.size() != 4) fail(name(), ": expected input of shape (N, C, H, W), got ", shape_str(s));
        if (s[2] < k_ || s[3] < k_)
            fail(name(), ": input ", shape_str(s), " is smaller than the ", k_, "x", k_, " window");
        return {s[0], s[1], (s[2] - k_) / s_ + 1, (s[3] - k_) / s_ + 1};
    }

    const Tensor<T>& forward(const Tensor<T>& x) override {
        const Shape ys = output_shape(shape_of(x));
        x_shape_ = shape_of(x);
        ensure_shape(y_, ys);
        argmax_.resize(y_.size());
        const std::size_t planes = ys[0] * ys[1], H = x_shape_[2], W = x_shape_[3], OH = ys[2], OW = ys[3];
        const T* xd = x.data();
        T* yd = y_.data();
        std::uint32_t* am = argmax_.data();
        // Planes are independent: split them over the pool's threads.
        cpu::parallel_for(planes, [&](std::size_t lo, std::size_t hi) {
            for (std::size_t p = lo; p < hi; ++p) {
                if (k_ == 2 && s_ == 2)
                    pool_plane<2, 2>(xd + p * H * W, W, OH, OW, yd + p * OH * OW, am + p * OH * OW);
                else
                    pool_plane<0, 0>(xd + p * H * W, W, OH, OW, yd + p * OH * OW, am + p * OH * OW);
            }
        }, 8);
        return y_;
    }

    const Tensor<T>& backward(const Tensor<T>& dy) override {
        this->check_grad_shape(dy, y_);
        ensure_shape(dx_, x_shape_);
        dx_.fill(T(0));
        const std::size_t HW = x_shape_[2] * x_shape_[3], OHW = y_.shape()[2] * y_.shape()[3];
        const std::size_t planes = x_shape_[0] * x_shape_[1];
        cpu::parallel_for(planes, [&](std::size_t lo, std::size_t hi) {
            T* dx = dx_.data();
            std::fill(dx + lo * HW, dx + hi * HW, T(0));
            for (std::size_t o = lo * OHW; o < hi * OHW; ++o) dx[(o / OHW) * HW + argmax_[o]] += dy.data()[o];
        }, 8);
        return dx_;
    }

private:
    // One plane; K, S > 0 fix the window at compile time (the homework's 2x2/2), 0 = runtime.
    template <std::size_t K, std::size_t S>
    void pool_plane(const T* plane, std::size_t W, std::size_t OH, std::size_t OW, T* y,
                    std::uint32_t* argmax) const {
        const std::size_t k = K ? K : k_, s = S ? S : s_;
        for (std::size_t oh = 0; oh < OH; ++oh)
            for (std::size_t ow = 0; ow < OW; ++ow) {
                std::size_t best = (oh * s) * W + ow * s;
                for (std::size_t i = 0; i < k; ++i)
                    for (std::size_t j = 0; j < k; ++j) {
                        const std::size_t idx = (oh * s + i) * W + ow * s + j;
                        // NaN propagates like PyTorch: a NaN wins the window.
                        if (plane[idx] > plane[best] || std::isnan(plane[idx])) best = idx;
                    }
                y[oh * OW + ow] = plane[best];
                argmax[oh * OW + ow] = static_cast<std::uint32_t>(best);
            }
    }

    std::size_t k_, s_;
    Shape x_shape_;
    Tensor<T> y_, dx_;
    std::vector<std::uint32_t> argmax_;
};

}  // namespace ann
