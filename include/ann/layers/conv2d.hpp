#pragma once
// Conv2d (cross-correlation, as torch.nn.Conv2d).
//   x is (N, C, H, W), W is (O, C, kh, kw), b is (O,), y is (N, O, OH, OW)
//   OH = (H + 2p - kh) / s + 1, OW likewise.
// The arithmetic is the backend's (backend/backend.hpp): on the CPU backend/cpu/conv2d.hpp (a
// direct AVX-512 kernel or im2col + GEMM, images handed out to the pool's threads), on CUDA
// cuDNN; backend/cpu/conv_reference.hpp is the plain-loop version the tests compare with.
// Forward caches a copy of x (training mode only): backward recomputes each image's columns
// from it, which is cheaper than keeping every image's column matrix.
#include <algorithm>

#include "ann/core/init.hpp"
#include "ann/layers/layer.hpp"

namespace ann {

template <class T>
class Conv2d : public Layer<T> {
public:
    Conv2d(std::size_t in_channels, std::size_t out_channels, std::size_t kernel_size,
           std::size_t stride = 1, std::size_t padding = 0, bool bias = true, Rng& rng = default_rng())
        : C_(in_channels), O_(out_channels), k_(kernel_size), s_(stride), p_(padding), has_bias_(bias),
          weight_("weight", {out_channels, in_channels, kernel_size, kernel_size}) {
        if (C_ == 0 || O_ == 0 || k_ == 0 || s_ == 0)
            fail(name(), ": channels, kernel size and stride must be positive");
        if (has_bias_) bias_ = Parameter<T>("bias", {out_channels});
        reset_parameters(rng);
    }

    void reset_parameters(Rng& rng) {
        const std::size_t fan_in = C_ * k_ * k_;
        kaiming_uniform_default_(weight_.value, fan_in, rng);
        if (has_bias_) bias_uniform_default_(bias_.value, fan_in, rng);
    }

    std::string name() const override {
        std::string n = "Conv2d(" + std::to_string(C_) + ", " + std::to_string(O_) +
                        ", kernel_size=" + std::to_string(k_);
        if (s_ != 1) n += ", stride=" + std::to_string(s_);
        if (p_ != 0) n += ", padding=" + std::to_string(p_);
        if (!has_bias_) n += ", bias=False";
        return n + ")";
    }

    Shape output_shape(const Shape& s) const override {
        if (s.size() != 4 || s[1] != C_)
            fail(name(), ": expected input of shape (N, ", C_, ", H, W), got ", shape_str(s));
        if (s[2] + 2 * p_ < k_ || s[3] + 2 * p_ < k_)
            fail(name(), ": input ", shape_str(s), " is smaller than the ", k_, "x", k_,
                 " kernel (with padding ", p_, ")");
        return {s[0], O_, (s[2] + 2 * p_ - k_) / s_ + 1, (s[3] + 2 * p_ - k_) / s_ + 1};
    }

    const Array<T>& forward(const Array<T>& x) override {
        const Shape ys = output_shape(x.shape());
        this->check_device(x);
        g_ = {int(C_), int(x.dim(2)), int(x.dim(3)), int(k_), int(k_), int(s_), int(p_)};
        this->place(y_, ys);
        if (this->is_training()) {
            this->place(x_, x.shape());
            x_.copy_from(x);
        } else {
            x_ = Array<T>();  // eval mode: nothing cached, backward refuses
        }
        this->ops().conv2d_forward(x.data(), weight_.value.data(), has_bias_ ? bias_.value.data() : nullptr, y_.data(),
                                   int(ys[0]), int(O_), g_, state());
        return y_;
    }

    // Evaluation's fused pass (Sequential runs it for Conv2d -> activation -> MaxPool2d in eval
    // mode): y = e's activation and pool of this layer's output, into the caller's buffer y,
    // nothing cached (backward refuses until the next training-mode forward).
    void forward_fused(const Array<T>& x, const ConvEpilogue& e, Array<T>& y) {
        const Shape cs = output_shape(x.shape());
        this->check_device(x);
        g_ = {int(C_), int(x.dim(2)), int(x.dim(3)), int(k_), int(k_), int(s_), int(p_)};
        x_ = Array<T>();
        this->place(y, {cs[0], O_, std::size_t(e.PH(g_)), std::size_t(e.PW(g_))});
        this->ops().conv2d_forward_fused(x.data(), weight_.value.data(), has_bias_ ? bias_.value.data() : nullptr, e,
                                         y.data(), int(cs[0]), int(O_), g_, state());
    }

    const Array<T>& backward(const Array<T>& dy) override {
        this->check_grad_shape(dy, y_);
        if (x_.dimension() != 4 || x_.dim(0) != dy.dim(0))
            fail(name(), ": backward needs a forward in training mode first (call train())");
        const int N = int(x_.dim(0));
        auto& ops = this->ops();
        ops.conv2d_backward_weights(x_.data(), dy.data(), weight_.grad.data(), has_bias_ ? bias_.grad.data() : nullptr,
                                    N, int(O_), g_, state());
        if (!this->input_grad_) return this->no_input_grad_;
        this->place(dx_, x_.shape());
        ops.conv2d_backward_data(dy.data(), weight_.value.data(), dx_.data(), N, int(O_), g_, state());
        return dx_;
    }

    void to(Device d) override {
        Layer<T>::to(d);
        state_.reset();  // the other backend's buffers, descriptors and plans
    }

    std::vector<Parameter<T>*> parameters() override {
        if (has_bias_) return {&weight_, &bias_};
        return {&weight_};
    }
    Parameter<T>& weight() { return weight_; }
    Parameter<T>& bias() {
        if (!has_bias_) fail(name(), ": this layer has no bias");
        return bias_;
    }
    std::size_t in_channels() const { return C_; }
    std::size_t out_channels() const { return O_; }
    std::size_t kernel_size() const { return k_; }
    std::size_t stride() const { return s_; }
    std::size_t padding() const { return p_; }
    bool has_bias() const { return has_bias_; }

private:
    std::size_t C_, O_, k_, s_, p_;
    bool has_bias_;
    Parameter<T> weight_, bias_;
    ConvGeometry g_{};
    Array<T> x_, y_, dx_;
    std::unique_ptr<BackendState> state_;

    BackendState& state() {
        if (!state_) state_ = this->ops().make_conv_state();
        return *state_;
    }
};

}  // namespace ann
