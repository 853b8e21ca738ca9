#pragma once
// Device layers: the GPU mirrors of ann's CPU layers, with the same contract
// (include/ann/layers/layer.hpp): forward(x) returns a buffer the layer owns, backward(dy)
// OVERWRITES the input gradient and ADDS into parameter gradients. float32 only.
// One difference: a device layer keeps a pointer to its input instead of a copy, so the input
// must stay alive and unchanged until backward (inside a DeviceModel it always does: it is the
// previous layer's output or the caller's batch).
//   Linear      cuBLAS sgemm (+ gemv for the bias gradient)
//   Conv2d      cuDNN convolution forward / backward data / backward filter / backward bias,
//               algorithms chosen once per shape (see conv_algos.hpp)
//   MaxPool2d   cuDNN pooling;  ReLU, Sigmoid, Tanh: cuDNN activations;  Flatten: an alias
#include <memory>
#include <string>
#include <vector>

#include "ann/backend/cuda/conv_algos.hpp"
#include "ann/backend/cuda/descriptors.hpp"
#include "ann/backend/cuda/device_tensor.hpp"
#include "ann/backend/cuda/kernels.cuh"

namespace ann::cuda {

class DeviceLayer {
public:
    explicit DeviceLayer(Context& ctx) : ctx_(&ctx) {}
    virtual ~DeviceLayer() = default;
    DeviceLayer(const DeviceLayer&) = delete;
    DeviceLayer& operator=(const DeviceLayer&) = delete;

    virtual const DeviceTensor& forward(const DeviceTensor& x) = 0;
    virtual const DeviceTensor& backward(const DeviceTensor& dy) = 0;
    virtual std::string name() const = 0;
    virtual std::vector<DeviceParameter*> parameters() { return {}; }

    void zero_grad() {
        for (auto* p : parameters()) p->zero_grad(*ctx_);
    }
    // The first layer of a model need not compute the gradient of the images; the model turns
    // this off there for training (backward then returns an empty tensor).
    void set_input_grad(bool on) { input_grad_ = on; }
    bool input_grad() const { return input_grad_; }

protected:
    void check_input(const DeviceTensor& x, std::size_t rank) const {
        if (x.dimension() != rank) fail(name(), ": expected a rank-", rank, " input, got ", shape_str(x.shape()));
    }
    void check_grad(const DeviceTensor& dy, const DeviceTensor& y) const {
        if (dy.shape() != y.shape())
            fail(name(), ": backward got a gradient of shape ", shape_str(dy.shape()),
                 ", expected the shape of the last forward output ", shape_str(y.shape()));
    }
    Context* ctx_;
    bool input_grad_ = true;
    DeviceTensor no_grad_;  // what backward returns when the input gradient is off: empty
};

// y = x W^T + b.  x is (N, in), W is (out, in), b is (out,), y is (N, out).
// Row-major (N, F) is column-major (F, N), so every product below is the transposed one.
class Linear : public DeviceLayer {
public:
    Linear(std::size_t in, std::size_t out, bool bias, Context& ctx = Context::get())
        : DeviceLayer(ctx), in_(in), out_(out), has_bias_(bias) {
        weight_.name = "weight";
        weight_.value.resize({out, in});
        weight_.grad.resize({out, in});
        weight_.grad.zero(ctx);
        if (bias) {
            bias_.name = "bias";
            bias_.value.resize({out});
            bias_.grad.resize({out});
            bias_.grad.zero(ctx);
        }
    }
    std::string name() const override {
        return "cuda::Linear(in_features=" + std::to_string(in_) + ", out_features=" + std::to_string(out_) +
               ", bias=" + (has_bias_ ? "True" : "False") + ")";
    }
    const DeviceTensor& forward(const DeviceTensor& x) override {
        check_input(x, 2);
        if (x.dim(1) != std::size_t(in_)) fail(name(), ": expected input of shape (N, ", in_, "), got ", shape_str(x.shape()));
        const int N = static_cast<int>(x.dim(0));
        x_ = &x;
        y_.resize({x.dim(0), std::size_t(out_)});
        const float one = 1, zero = 0;
        if (has_bias_) kernels::broadcast_rows(y_.data(), bias_.value.data(), N, out_, ctx_->stream());
        // y^T (out, N) = W (out, in) . x^T (in, N)
        ANN_CUBLAS_CHECK(cublasSgemm(ctx_->cublas(), CUBLAS_OP_T, CUBLAS_OP_N, out_, N, in_, &one, weight_.value.data(),
                                     in_, x.data(), in_, has_bias_ ? &one : &zero, y_.data(), out_));
        return y_;
    }
    const DeviceTensor& backward(const DeviceTensor& dy) override {
        check_grad(dy, y_);
        const int N = static_cast<int>(dy.dim(0));
        const float one = 1, zero = 0;
        // dW^T (in, out) += x^T (in, N) . dy (N, out)
        ANN_CUBLAS_CHECK(cublasSgemm(ctx_->cublas(), CUBLAS_OP_N, CUBLAS_OP_T, in_, out_, N, &one, x_->data(), in_,
                                     dy.data(), out_, &one, weight_.grad.data(), in_));
        // db (out) += dy^T (out, N) . ones (N)
        if (has_bias_)
            ANN_CUBLAS_CHECK(cublasSgemv(ctx_->cublas(), CUBLAS_OP_N, out_, N, &one, dy.data(), out_,
                                         ctx_->ones(N), 1, &one, bias_.grad.data(), 1));
        if (!input_grad_) return no_grad_;
        // dx^T (in, N) = W^T (in, out) . dy^T (out, N)
        dx_.resize(x_->shape());
        ANN_CUBLAS_CHECK(cublasSgemm(ctx_->cublas(), CUBLAS_OP_N, CUBLAS_OP_N, in_, N, out_, &one, weight_.value.data(),
                                     in_, dy.data(), out_, &zero, dx_.data(), in_));
        return dx_;
    }
    std::vector<DeviceParameter*> parameters() override {
        if (has_bias_) return {&weight_, &bias_};
        return {&weight_};
    }

private:
    int in_, out_;
    bool has_bias_;
    DeviceParameter weight_, bias_;
    const DeviceTensor* x_ = nullptr;
    DeviceTensor y_, dx_;
};

// Cross-correlation as torch.nn.Conv2d.  x is (N, C, H, W), W is (O, C, k, k), b is (O,),
// y is (N, O, (H + 2p - k)/s + 1, (W + 2p - k)/s + 1).
class Conv2d : public DeviceLayer {
public:
    Conv2d(std::size_t in, std::size_t out, std::size_t k, std::size_t stride, std::size_t padding, bool bias,
           Context& ctx = Context::get())
        : DeviceLayer(ctx), C_(in), O_(out), k_(k), s_(stride), p_(padding), has_bias_(bias) {
        weight_.name = "weight";
        weight_.value.resize({out, in, k, k});
        weight_.grad.resize({out, in, k, k});
        weight_.grad.zero(ctx);
        if (bias) {
            bias_.name = "bias";
            bias_.value.resize({out});
            bias_.grad.resize({out});
            bias_.grad.zero(ctx);
        }
        wdesc_.set(O_, C_, k_, k_);
        bdesc_.set(1, O_, 1, 1);
        cdesc_.set(p_, s_, ctx.options().allow_tf32);
    }
    std::string name() const override {
        std::string n = "cuda::Conv2d(" + std::to_string(C_) + ", " + std::to_string(O_) + ", kernel_size=" + std::to_string(k_);
        if (s_ != 1) n += ", stride=" + std::to_string(s_);
        if (p_ != 0) n += ", padding=" + std::to_string(p_);
        if (!has_bias_) n += ", bias=False";
        return n + ")";
    }
    Shape output_shape(const Shape& s) const {
        if (s.size() != 4 || s[1] != std::size_t(C_))
            fail(name(), ": expected input of shape (N, ", C_, ", H, W), got ", shape_str(s));
        if (s[2] + 2 * p_ < std::size_t(k_) || s[3] + 2 * p_ < std::size_t(k_))
            fail(name(), ": input ", shape_str(s), " is smaller than the ", k_, "x", k_, " kernel (with padding ", p_, ")");
        return {s[0], std::size_t(O_), (s[2] + 2 * p_ - k_) / s_ + 1, (s[3] + 2 * p_ - k_) / s_ + 1};
    }
    const DeviceTensor& forward(const DeviceTensor& x) override {
        const Shape ys = output_shape(x.shape());
        if (x.shape() != x_shape_) {  // new shape: descriptors and algorithms (cached per shape)
            x_shape_ = x.shape();
            xdesc_.set(ys[0], C_, x_shape_[2], x_shape_[3]);
            ydesc_.set(ys[0], O_, ys[2], ys[3]);
            algos_ = &conv_algos(*ctx_, ConvKey::of(x_shape_, O_, k_, s_, p_), xdesc_, wdesc_, cdesc_, ydesc_);
        }
        x_ = &x;
        y_.resize(ys);
        const float one = 1, zero = 0;
        void* ws = ctx_->workspace(algos_->workspace_bytes);
        ANN_CUDNN_CHECK(cudnnConvolutionForward(ctx_->cudnn(), &one, xdesc_, x.data(), wdesc_, weight_.value.data(), cdesc_,
                                                algos_->fwd, ws, algos_->workspace_bytes, &zero, ydesc_, y_.data()));
        if (has_bias_)
            ANN_CUDNN_CHECK(cudnnAddTensor(ctx_->cudnn(), &one, bdesc_, bias_.value.data(), &one, ydesc_, y_.data()));
        return y_;
    }
    const DeviceTensor& backward(const DeviceTensor& dy) override {
        check_grad(dy, y_);
        const float one = 1, zero = 0;
        void* ws = ctx_->workspace(algos_->workspace_bytes);
        ANN_CUDNN_CHECK(cudnnConvolutionBackwardFilter(ctx_->cudnn(), &one, xdesc_, x_->data(), ydesc_, dy.data(), cdesc_,
                                                       algos_->bwd_filter, ws, algos_->workspace_bytes, &one, wdesc_,
                                                       weight_.grad.data()));
        if (has_bias_)
            ANN_CUDNN_CHECK(cudnnConvolutionBackwardBias(ctx_->cudnn(), &one, ydesc_, dy.data(), &one, bdesc_, bias_.grad.data()));
        if (!input_grad_) return no_grad_;
        dx_.resize(x_shape_);
        ANN_CUDNN_CHECK(cudnnConvolutionBackwardData(ctx_->cudnn(), &one, wdesc_, weight_.value.data(), ydesc_, dy.data(),
                                                     cdesc_, algos_->bwd_data, ws, algos_->workspace_bytes, &zero, xdesc_,
                                                     dx_.data()));
        return dx_;
    }
    std::vector<DeviceParameter*> parameters() override {
        if (has_bias_) return {&weight_, &bias_};
        return {&weight_};
    }
    const ConvAlgos* algorithms() const { return algos_; }

private:
    int C_, O_, k_, s_, p_;
    bool has_bias_;
    DeviceParameter weight_, bias_;
    FilterDesc wdesc_;
    TensorDesc bdesc_, xdesc_, ydesc_;
    ConvDesc cdesc_;
    const ConvAlgos* algos_ = nullptr;
    Shape x_shape_;
    const DeviceTensor* x_ = nullptr;
    DeviceTensor y_, dx_;
};

// Max pooling, no padding, floor mode.  x is (N, C, H, W), y is (N, C, (H-k)/s+1, (W-k)/s+1).
class MaxPool2d : public DeviceLayer {
public:
    MaxPool2d(std::size_t k, std::size_t stride, Context& ctx = Context::get()) : DeviceLayer(ctx), k_(k), s_(stride) {
        pdesc_.set_max(k_, s_);
    }
    std::string name() const override {
        return "cuda::MaxPool2d(kernel_size=" + std::to_string(k_) + ", stride=" + std::to_string(s_) + ")";
    }
    const DeviceTensor& forward(const DeviceTensor& x) override {
        check_input(x, 4);
        const Shape& s = x.shape();
        if (s[2] < std::size_t(k_) || s[3] < std::size_t(k_))
            fail(name(), ": input ", shape_str(s), " is smaller than the ", k_, "x", k_, " window");
        const Shape ys{s[0], s[1], (s[2] - k_) / s_ + 1, (s[3] - k_) / s_ + 1};
        if (s != x_shape_) {
            x_shape_ = s;
            xdesc_.set(s[0], s[1], s[2], s[3]);
            ydesc_.set(ys[0], ys[1], ys[2], ys[3]);
        }
        x_ = &x;
        y_.resize(ys);
        const float one = 1, zero = 0;
        ANN_CUDNN_CHECK(cudnnPoolingForward(ctx_->cudnn(), pdesc_, &one, xdesc_, x.data(), &zero, ydesc_, y_.data()));
        return y_;
    }
    const DeviceTensor& backward(const DeviceTensor& dy) override {
        check_grad(dy, y_);
        if (!input_grad_) return no_grad_;
        dx_.resize(x_shape_);
        const float one = 1, zero = 0;
        ANN_CUDNN_CHECK(cudnnPoolingBackward(ctx_->cudnn(), pdesc_, &one, ydesc_, y_.data(), ydesc_, dy.data(), xdesc_,
                                             x_->data(), &zero, xdesc_, dx_.data()));
        return dx_;
    }

private:
    int k_, s_;
    PoolDesc pdesc_;
    TensorDesc xdesc_, ydesc_;
    Shape x_shape_;
    const DeviceTensor* x_ = nullptr;
    DeviceTensor y_, dx_;
};

// ReLU / Sigmoid / Tanh on any shape, through cuDNN (viewed as (N, rest, 1, 1)).
class Activation : public DeviceLayer {
public:
    Activation(cudnnActivationMode_t mode, Context& ctx = Context::get()) : DeviceLayer(ctx), mode_(mode), adesc_(mode) {}
    std::string name() const override {
        switch (mode_) {
            case CUDNN_ACTIVATION_RELU: return "cuda::ReLU()";
            case CUDNN_ACTIVATION_SIGMOID: return "cuda::Sigmoid()";
            case CUDNN_ACTIVATION_TANH: return "cuda::Tanh()";
            default: return "cuda::Activation()";
        }
    }
    const DeviceTensor& forward(const DeviceTensor& x) override {
        if (x.dimension() == 0 || x.size() == 0) fail(name(), ": empty input ", shape_str(x.shape()));
        if (x.shape() != x_shape_) {
            x_shape_ = x.shape();
            desc_.set(x.dim(0), x.size() / x.dim(0), 1, 1);
        }
        x_ = &x;
        y_.resize(x.shape());
        const float one = 1, zero = 0;
        ANN_CUDNN_CHECK(cudnnActivationForward(ctx_->cudnn(), adesc_, &one, desc_, x.data(), &zero, desc_, y_.data()));
        return y_;
    }
    const DeviceTensor& backward(const DeviceTensor& dy) override {
        check_grad(dy, y_);
        if (!input_grad_) return no_grad_;
        dx_.resize(x_shape_);
        const float one = 1, zero = 0;
        ANN_CUDNN_CHECK(cudnnActivationBackward(ctx_->cudnn(), adesc_, &one, desc_, y_.data(), desc_, dy.data(), desc_,
                                                x_->data(), &zero, desc_, dx_.data()));
        return dx_;
    }

private:
    cudnnActivationMode_t mode_;
    ActivationDesc adesc_;
    TensorDesc desc_;
    Shape x_shape_;
    const DeviceTensor* x_ = nullptr;
    DeviceTensor y_, dx_;
};

// (N, d1, d2, ...) -> (N, d1*d2*...): aliases, no copy.
class Flatten : public DeviceLayer {
public:
    using DeviceLayer::DeviceLayer;
    std::string name() const override { return "cuda::Flatten()"; }
    const DeviceTensor& forward(const DeviceTensor& x) override {
        if (x.dimension() == 0) fail(name(), ": expected at least a batch dimension, got a scalar");
        x_shape_ = x.shape();
        y_.alias(x, {x.dim(0), x.dim(0) == 0 ? 0 : x.size() / x.dim(0)});
        return y_;
    }
    const DeviceTensor& backward(const DeviceTensor& dy) override {
        check_grad(dy, y_);
        dx_.alias(dy, x_shape_);
        return dx_;
    }

private:
    Shape x_shape_;
    DeviceTensor y_, dx_;
};

}  // namespace ann::cuda
