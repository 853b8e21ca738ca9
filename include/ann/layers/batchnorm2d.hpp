#pragma once
// BatchNorm2d, as torch.nn.BatchNorm2d(num_features, eps=1e-5, momentum=0.1, affine=True,
// track_running_stats=True).
//   x and y are (N, C, H, W); weight (gamma, init 1), bias (beta, init 0), running_mean (init 0)
//   and running_var (init 1) are (C).
//   training:   y = (x - mean) / sqrt(var + eps) * weight + bias with the batch's mean and biased
//               variance per channel over (N, H, W); then running = (1 - momentum) running +
//               momentum batch, the variance unbiased (times M/(M-1), M = N*H*W), as PyTorch.
//   evaluation: the same with running_mean and running_var.
// Model files hold weight, bias, running_mean, running_var (PyTorch's state_dict order). Not
// kept: num_batches_tracked, PyTorch's counter that only momentum=None (a cumulative average,
// not supported) reads. A file whose running_var is negative or not finite, or whose
// running_mean is not finite, is refused at load (ValueRule, core/parameter.hpp).
//
// Backward works after a forward in either mode, like PyTorch's (a BatchNorm2d put in eval()
// inside a training model, "frozen" batch norm, is common when fine-tuning):
//   after a training forward: the full batch-norm gradient (mean and variance depend on x);
//   after an eval forward: the running statistics are constants, dx = dy * weight / sqrt(rv + eps).
// So forward keeps a copy of x in both modes (one copy of the activations per call).
// Statistics are computed in double, in a fixed order (backend/cpu/batchnorm.hpp says why).
#include <cmath>
#include <string>

#include "ann/core/format.hpp"
#include "ann/layers/layer.hpp"

namespace ann {

struct BatchNorm2dOptions {
    double eps = 1e-5;
    double momentum = 0.1;  // in [0, 1]; PyTorch's None (cumulative average) is not supported
    bool affine = true;     // learnable weight and bias
};


template <class T>
class BatchNorm2d : public Layer<T> {
public:
    explicit BatchNorm2d(std::size_t num_features, BatchNorm2dOptions options = {})
        : C_(num_features), opt_(options),
          running_mean_("running_mean", {num_features}, ValueRule::finite, BufferSync::mean),
          running_var_("running_var", {num_features}, ValueRule::non_negative_finite, BufferSync::mean) {
        if (C_ == 0) fail("BatchNorm2d: num_features must be positive");
        if (!(std::isfinite(opt_.eps) && opt_.eps >= 0))
            fail("BatchNorm2d(", C_, "): eps must be finite and >= 0, got ", opt_.eps);
        if (!(opt_.momentum >= 0 && opt_.momentum <= 1))
            fail("BatchNorm2d(", C_, "): momentum must be in [0, 1], got ", opt_.momentum,
                 " (momentum=None, a cumulative average, is not supported)");
        running_var_.value.fill(T(1));
        if (opt_.affine) {
            weight_ = Parameter<T>("weight", {C_});
            bias_ = Parameter<T>("bias", {C_});
            weight_.value.fill(T(1));
        }
    }
    BatchNorm2d(std::size_t num_features, double eps, double momentum = 0.1, bool affine = true)
        : BatchNorm2d(num_features, BatchNorm2dOptions{eps, momentum, affine}) {}

    std::string name() const override {
        return "BatchNorm2d(" + std::to_string(C_) + ", eps=" + float_repr(opt_.eps) +
               ", momentum=" + float_repr(opt_.momentum) + ", affine=" + (opt_.affine ? "True" : "False") +
               ")";
    }

    Shape output_shape(const Shape& s) const override {
        if (s.size() != 4 || s[1] != C_)
            fail(name(), ": expected input of shape (N, ", C_, ", H, W), got ", shape_str(s));
        return s;
    }

    const Array<T>& forward(const Array<T>& x) override {
        const Shape& s = output_shape(x.shape());
        this->check_device(x);
        const std::size_t N = s[0], HW = s[2] * s[3];
        if (this->is_training() && N * HW < 2)
            fail(name(), ": training needs more than one value per channel (N*H*W >= 2), got input of shape ",
                 shape_str(s));
        batch_stats_ = this->is_training();
        // A copy, not a pointer: the caller may free or refill its batch before backward.
        this->place(x_, s);
        x_.copy_from(x);
        this->place(y_, s);
        mean_.ensure({C_}, this->device_);
        invstd_.ensure({C_}, this->device_);
        auto& ops = this->ops();
        if (batch_stats_)
            ops.batchnorm_forward_train(x.data(), gamma(), beta(), y_.data(), mean_.data(), invstd_.data(),
                                        running_mean_.value.data(), running_var_.value.data(), N, C_, HW, opt_.eps,
                                        opt_.momentum);
        else
            ops.batchnorm_forward_eval(x.data(), gamma(), beta(), running_mean_.value.data(),
                                       running_var_.value.data(), y_.data(), mean_.data(), invstd_.data(), N, C_, HW,
                                       opt_.eps);
        return y_;
    }

    const Array<T>& backward(const Array<T>& dy) override {
        this->check_grad_shape(dy, y_);
        if (x_.shape() != dy.shape() || x_.device() != this->device_)
            fail(name(), ": backward needs a forward on this device first");
        const std::size_t N = dy.dim(0), HW = dy.dim(2) * dy.dim(3);
        T* dx = nullptr;
        if (this->input_grad_) {
            this->place(dx_, x_.shape());
            dx = dx_.data();
        }
        if (dx || opt_.affine)
            this->ops().batchnorm_backward(x_.data(), dy.data(), gamma(), mean_.data(), invstd_.data(), dx,
                                           opt_.affine ? weight_.grad.data() : nullptr,
                                           opt_.affine ? bias_.grad.data() : nullptr, N, C_, HW, batch_stats_);
        return dx ? dx_ : this->no_input_grad_;
    }

    std::vector<Parameter<T>*> parameters() override {
        if (opt_.affine) return {&weight_, &bias_};
        return {};
    }
    std::vector<Buffer<T>*> buffers() override { return {&running_mean_, &running_var_}; }

    Parameter<T>& weight() {
        if (!opt_.affine) fail(name(), ": no weight (affine=False)");
        return weight_;
    }
    Parameter<T>& bias() {
        if (!opt_.affine) fail(name(), ": no bias (affine=False)");
        return bias_;
    }
    Buffer<T>& running_mean() { return running_mean_; }
    Buffer<T>& running_var() { return running_var_; }
    std::size_t num_features() const { return C_; }
    const BatchNorm2dOptions& options() const { return opt_; }

private:
    const T* gamma() const { return opt_.affine ? weight_.value.data() : nullptr; }
    const T* beta() const { return opt_.affine ? bias_.value.data() : nullptr; }

    std::size_t C_;
    BatchNorm2dOptions opt_;
    Parameter<T> weight_, bias_;
    Buffer<T> running_mean_, running_var_;
    bool batch_stats_ = true;       // whether the last forward used the batch's statistics
    Array<T> x_, y_, dx_;
    Array<double> mean_, invstd_;   // the last forward's statistics (C), for backward
};

}  // namespace ann
