#pragma once
// AvgPool2d, as torch.nn.AvgPool2d(kernel_size, stride, padding) with PyTorch's defaults
// ceil_mode=False and count_include_pad=True:
//   x is (N, C, H, W), y is (N, C, (H + 2p - k)/s + 1, (W + 2p - k)/s + 1)
//   each output is the sum of its k x k window's inputs (padding counts as zeros) divided by k*k.
// padding <= kernel_size / 2, as PyTorch requires. Window rule and arithmetic:
// backend/avgpool_windows.hpp, shared with AdaptiveAvgPool2d (layers/adaptive_avgpool2d.hpp).
// Nothing is cached but the input's shape: backward only needs the windows.
#include "ann/layers/layer.hpp"

namespace ann {

namespace detail {

// Average pooling over the windows that geometry() gives for an input shape (the shape
// checks live there too).
template <class T>
class AvgPoolLayer : public Layer<T> {
public:
    Shape output_shape(const Shape& s) const override {
        const AvgPoolGeometry g = geometry(s);
        return {s[0], s[1], std::size_t(g.OH), std::size_t(g.OW)};
    }

    const Array<T>& forward(const Array<T>& x) override {
        g_ = geometry(x.shape());
        this->check_device(x);
        x_shape_ = x.shape();
        this->place(y_, {x_shape_[0], x_shape_[1], std::size_t(g_.OH), std::size_t(g_.OW)});
        this->ops().avgpool_forward(x.data(), y_.data(), x_shape_[0] * x_shape_[1], g_);
        return y_;
    }

    const Array<T>& backward(const Array<T>& dy) override {
        this->check_grad_shape(dy, y_);
        if (!this->input_grad_) return this->no_input_grad_;
        this->place(dx_, x_shape_);
        this->ops().avgpool_backward(dy.data(), dx_.data(), x_shape_[0] * x_shape_[1], g_);
        return dx_;
    }

protected:
    // The windows for input shape s, or an ann::Error naming the layer and the shape.
    virtual AvgPoolGeometry geometry(const Shape& s) const = 0;

    // Sizes, windows, strides and padding up to 2^15: the window arithmetic (backend/
    // avgpool_windows.hpp) is in int, and a window's element count k*k must not overflow it.
    static constexpr std::size_t kMaxSide = std::size_t(1) << 15;
    void check_4d(const Shape& s) const {
        if (s.size() != 4) fail(this->name(), ": expected input of shape (N, C, H, W), got ", shape_str(s));
        if (s[2] > kMaxSide || s[3] > kMaxSide)
            fail(this->name(), ": input ", shape_str(s), " is larger than ", kMaxSide, " in H or W");
    }
    static void check_side(const char* layer, const char* what, std::size_t v) {
        if (v > kMaxSide) fail(layer, ": ", what, " must be at most ", kMaxSide, ", got ", v);
    }

private:
    AvgPoolGeometry g_{};
    Shape x_shape_;
    Array<T> y_, dx_;
};

}  // namespace detail

template <class T>
class AvgPool2d : public detail::AvgPoolLayer<T> {
public:
    explicit AvgPool2d(std::size_t kernel_size, std::size_t stride = 0, std::size_t padding = 0)
        : k_(kernel_size), s_(stride == 0 ? kernel_size : stride), p_(padding) {
        if (k_ == 0) fail("AvgPool2d: kernel_size must be positive");
        this->check_side("AvgPool2d", "kernel_size", k_);
        this->check_side("AvgPool2d", "stride", s_);
        this->check_side("AvgPool2d", "padding", p_);
        if (2 * p_ > k_)
            fail(name(), ": padding should be at most half of kernel size, but got padding=", p_,
                 " and kernel_size=", k_);
    }

    std::string name() const override {
        return "AvgPool2d(kernel_size=" + std::to_string(k_) + ", stride=" + std::to_string(s_) +
               ", padding=" + std::to_string(p_) + ")";
    }

    std::size_t kernel_size() const { return k_; }
    std::size_t stride() const { return s_; }
    std::size_t padding() const { return p_; }

protected:
    AvgPoolGeometry geometry(const Shape& s) const override {
        this->check_4d(s);
        if (s[2] + 2 * p_ < k_ || s[3] + 2 * p_ < k_)
            fail(name(), ": input ", shape_str(s), " is smaller than the ", k_, "x", k_, " window (with padding ",
                 p_, ")");
        AvgPoolGeometry g;
        g.H = int(s[2]), g.W = int(s[3]);
        g.OH = int((s[2] + 2 * p_ - k_) / s_ + 1), g.OW = int((s[3] + 2 * p_ - k_) / s_ + 1);
        g.k = int(k_), g.s = int(s_), g.pad = int(p_);
        return g;
    }

private:
    std::size_t k_, s_, p_;
};

}  // namespace ann
