#pragma once
// Linear: y = x W^T + b, as torch.nn.Linear.
//   x is (N, in), W is (out, in), b is (out,), y is (N, out).
#include "ann/core/init.hpp"
#include "ann/layers/layer.hpp"

namespace ann {

template <class T>
class Linear : public Layer<T> {
public:
    Linear(std::size_t in_features, std::size_t out_features, bool bias = true,
           Rng& rng = default_rng())
        : in_(in_features), out_(out_features), has_bias_(bias),
          weight_("weight", {out_features, in_features}) {
        if (in_ == 0 || out_ == 0) fail("Linear(", in_, ", ", out_, "): sizes must be positive");
        if (has_bias_) bias_ = Parameter<T>("bias", {out_features});
        reset_parameters(rng);
    }

    void reset_parameters(Rng& rng) {
        kaiming_uniform_default_(weight_.value, in_, rng);
        if (has_bias_) bias_uniform_default_(bias_.value, in_, rng);
    }

    std::string name() const override {
        return "Linear(in_features=" + std::to_string(in_) + ", out_features=" + std::to_string(out_) +
               ", bias=" + (has_bias_ ? "True" : "False") + ")";
    }

    Shape output_shape(const Shape& s) const override {
        if (s.size() != 2 || s[1] != in_)
            fail(name(), ": expected input of shape (N, ", in_, "), got ", shape_str(s));
        return {s[0], out_};
    }

    const Array<T>& forward(const Array<T>& x) override {
        const Shape ys = output_shape(x.shape());
        this->check_device(x);
        // A copy, not a pointer: the caller may free or refill its batch before backward.
        if (this->is_training()) {
            this->place(x_, x.shape());
            x_.copy_from(x);
        } else {
            x_ = Array<T>();  // eval mode: nothing cached, backward refuses (not a stale batch)
        }
        this->place(y_, ys);
        const int N = static_cast<int>(ys[0]);
        auto& ops = this->ops();
        if (has_bias_) ops.broadcast_rows(y_.data(), bias_.value.data(), ys[0], out_);
        ops.gemm(false, true, N, out_, in_, T(1), x.data(), in_, weight_.value.data(), in_, has_bias_ ? T(1) : T(0),
                 y_.data(), out_);
        return y_;
    }

    const Array<T>& backward(const Array<T>& dy) override {
        this->check_grad_shape(dy, y_);
        if (x_.dimension() != 2 || x_.dim(0) != dy.dim(0))
            fail(name(), ": backward needs a forward in training mode first (call train())");
        const int N = static_cast<int>(dy.dim(0));
        auto& ops = this->ops();
        // dW += dy^T x ; db += sum_n dy ; dx = dy W
        ops.gemm(true, false, out_, in_, N, T(1), dy.data(), out_, x_.data(), in_, T(1), weight_.grad.data(), in_);
        if (has_bias_) ops.add_column_sums(dy.data(), bias_.grad.data(), dy.dim(0), out_);
        if (!this->input_grad_) return this->no_input_grad_;
        this->place(dx_, x_.shape());
        ops.gemm(false, false, N, in_, out_, T(1), dy.data(), out_, weight_.value.data(), in_, T(0), dx_.data(), in_);
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
    bool has_bias() const { return has_bias_; }

    std::size_t in_features() const { return in_; }
    std::size_t out_features() const { return out_; }

private:
    std::size_t in_, out_;
    bool has_bias_;
    Parameter<T> weight_, bias_;
    Array<T> x_, y_, dx_;
};

}  // namespace ann
