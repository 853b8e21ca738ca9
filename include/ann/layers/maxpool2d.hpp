#pragma once
// MaxPool2d without padding (floor mode), as torch.nn.MaxPool2d(kernel, stride).
//   x is (N, C, H, W), y is (N, C, (H-k)/s+1, (W-k)/s+1).
// Forward records the index of each window's maximum (the first one on ties, like PyTorch; a
// NaN wins), on every device, so backward routes each gradient to exactly that input.
#include <cstdint>

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

    const Array<T>& forward(const Array<T>& x) override {
        const Shape ys = output_shape(x.shape());
        this->check_device(x);
        x_shape_ = x.shape();
        this->place(y_, ys);
        argmax_.ensure(ys, this->device_);
        this->ops().maxpool_forward(x.data(), y_.data(), argmax_.data(), ys[0] * ys[1], int(x_shape_[2]),
                                    int(x_shape_[3]), int(ys[2]), int(ys[3]), int(k_), int(s_));
        return y_;
    }

    const Array<T>& backward(const Array<T>& dy) override {
        this->check_grad_shape(dy, y_);
        if (!this->input_grad_) return this->no_input_grad_;
        this->place(dx_, x_shape_);
        this->ops().maxpool_backward(dy.data(), argmax_.data(), dx_.data(), x_shape_[0] * x_shape_[1],
                                     int(x_shape_[2]), int(x_shape_[3]), int(y_.dim(2)), int(y_.dim(3)));
        return dx_;
    }

    std::size_t kernel_size() const { return k_; }
    std::size_t stride() const { return s_; }

private:
    std::size_t k_, s_;
    Shape x_shape_;
    Array<T> y_, dx_;
    Array<std::uint32_t> argmax_;
};

}  // namespace ann
