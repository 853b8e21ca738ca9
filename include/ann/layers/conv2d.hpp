#pragma once
// Conv2d (cross-correlation, as torch.nn.Conv2d) by im2col + one GEMM per image.
//   x is (N, C, H, W), W is (O, C, kh, kw), b is (O,), y is (N, O, OH, OW)
//   OH = (H + 2p - kh) / s + 1, OW likewise.
// Forward keeps every image's column matrix, so backward needs no second im2col:
//   dW += dy_n (O, OH*OW) col_n^T ; dcol = W^T dy_n ; dx_n = col2im(dcol).
#include "ann/backend/cpu/gemm.hpp"
#include "ann/backend/cpu/im2col.hpp"
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

    const Tensor<T>& forward(const Tensor<T>& x) override {
        const Shape ys = output_shape(shape_of(x));
        g_ = {int(C_), int(x.shape()[2]), int(x.shape()[3]), int(k_), int(k_), int(s_), int(p_)};
        x_shape_ = shape_of(x);
        const std::size_t N = ys[0], R = g_.rows(), P = g_.cols();
        ensure_shape(y_, ys);
        ensure_shape(col_, {N, R, P});
        for (std::size_t n = 0; n < N; ++n) {
            T* col = col_.data() + n * R * P;
            T* y = y_.data() + n * O_ * P;
            cpu::im2col(x.data() + n * C_ * g_.H * g_.W, g_, col);
            if (has_bias_)
                for (std::size_t o = 0; o < O_; ++o) std::fill(y + o * P, y + (o + 1) * P, bias_.value(o));
            cpu::gemm<T>(false, false, O_, P, R, T(1), weight_.value.data(), R, col, P,
                         has_bias_ ? T(1) : T(0), y, P);
        }
        return y_;
    }

    const Tensor<T>& backward(const Tensor<T>& dy) override {
        this->check_grad_shape(dy, y_);
        const std::size_t N = x_shape_[0], R = g_.rows(), P = g_.cols();
        ensure_shape(dx_, x_shape_);
        dx_.fill(T(0));
        ensure_shape(dcol_, {R, P});
        for (std::size_t n = 0; n < N; ++n) {
            const T* dyn = dy.data() + n * O_ * P;
            cpu::gemm<T>(false, true, O_, R, P, T(1), dyn, P, col_.data() + n * R * P, P, T(1),
                         weight_.grad.data(), R);
            if (has_bias_)
                for (std::size_t o = 0; o < O_; ++o) {
                    T sum = 0;
                    for (std::size_t q = 0; q < P; ++q) sum += dyn[o * P + q];
                    bias_.grad(o) += sum;
                }
            cpu::gemm<T>(true, false, R, P, O_, T(1), weight_.value.data(), R, dyn, P, T(0),
                         dcol_.data(), P);
            cpu::col2im_add(dcol_.data(), g_, dx_.data() + n * C_ * g_.H * g_.W);
        }
        return dx_;
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

private:
    std::size_t C_, O_, k_, s_, p_;
    bool has_bias_;
    Parameter<T> weight_, bias_;
    cpu::ConvGeometry g_{};
    Shape x_shape_;
    Tensor<T> y_, col_, dcol_, dx_;
};

}  // namespace ann
