#pragma once
// cuda::SGD and cuda::Adam: the rules of include/ann/optim/{sgd,adam}.hpp on device parameters.
// The learning rate and Adam's step count live in device memory, so a training step captured
// into a CUDA graph keeps following set_lr() and the bias corrections on every replay.
#include <vector>

#include "ann/backend/cuda/device_tensor.hpp"
#include "ann/backend/cuda/kernels.cuh"
#include "ann/optim/adam.hpp"

namespace ann::cuda {

class Optimizer {
public:
    Optimizer(std::vector<DeviceParameter*> params, double lr, Context& ctx)
        : ctx_(&ctx), params_(std::move(params)) {
        for (auto* p : params_)
            if (!p) fail("cuda optimizer: null parameter");
        if (!(lr >= 0.0)) fail("cuda optimizer: learning rate must be >= 0, got ", lr);
    }
    virtual ~Optimizer() = default;
    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    virtual void step() = 0;  // enqueued on the context's stream
    virtual void set_lr(double lr) = 0;
    void zero_grad() {
        for (auto* p : params_) p->zero_grad(*ctx_);
    }
    const std::vector<DeviceParameter*>& params() const { return params_; }

protected:
    static void check_lr(double lr) {
        if (!(lr >= 0.0)) fail("cuda optimizer: learning rate must be >= 0, got ", lr);
    }
    Context* ctx_;
    std::vector<DeviceParameter*> params_;
};

class SGD : public Optimizer {
public:
    SGD(std::vector<DeviceParameter*> params, double lr, double momentum = 0.0, Context& ctx = Context::get())
        : Optimizer(std::move(params), lr, ctx), momentum_(momentum), lr_dev_(1) {
        if (!(momentum >= 0.0)) fail("cuda::SGD: momentum must be >= 0, got ", momentum);
        set_lr(lr);
        if (momentum_ != 0.0)
            for (auto* p : params_) {
                buf_.emplace_back(p->value.shape());
                buf_.back().zero(ctx);
            }
    }
    void set_lr(double lr) override {
        check_lr(lr);
        lr_ = lr;
        ANN_CUDA_CHECK(cudaMemcpyAsync(lr_dev_.data(), &lr_, sizeof lr_, cudaMemcpyHostToDevice, ctx_->stream()));
        ctx_->synchronize();
    }
    double lr() const { return lr_; }
    void step() override {
        for (std::size_t i = 0; i < params_.size(); ++i) {
            auto& p = *params_[i];
            kernels::sgd_update<float>(p.value.data(), p.grad.data(), momentum_ != 0.0 ? buf_[i].data() : nullptr,
                                       p.size(), static_cast<float>(momentum_), lr_dev_.data(), ctx_->stream());
        }
    }

private:
    double momentum_, lr_ = 0;
    DeviceBuffer<double> lr_dev_;
    std::vector<DeviceTensor> buf_;
};

class Adam : public Optimizer {
public:
    Adam(std::vector<DeviceParameter*> params, AdamOptions o = {}, Context& ctx = Context::get())
        : Optimizer(std::move(params), o.lr, ctx), o_(o), state_(1) {
        if (!(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1))
            fail("cuda::Adam: betas must be in [0, 1), got (", o.beta1, ", ", o.beta2, ")");
        if (!(o.eps >= 0)) fail("cuda::Adam: eps must be >= 0, got ", o.eps);
        host_ = {o.lr, o.beta1, o.beta2, 0, 0.f, 0.f};
        upload_state();
        for (auto* p : params_) {
            m_.emplace_back(p->value.shape());
            v_.emplace_back(p->value.shape());
            m_.back().zero(ctx);
            v_.back().zero(ctx);
        }
        ctx.synchronize();
    }
    void set_lr(double lr) override {
        check_lr(lr);
        // Read the step count back so that only lr changes.
        ANN_CUDA_CHECK(cudaMemcpyAsync(&host_, state_.data(), sizeof host_, cudaMemcpyDeviceToHost, ctx_->stream()));
        ctx_->synchronize();
        host_.lr = lr;
        o_.lr = lr;
        upload_state();
    }
    void step() override {
        kernels::adam_advance(state_.data(), ctx_->stream());
        for (std::size_t i = 0; i < params_.size(); ++i) {
            auto& p = *params_[i];
            kernels::adam_update<float>(p.value.data(), p.grad.data(), m_[i].data(), v_[i].data(), p.size(),
                                        static_cast<float>(o_.beta1), static_cast<float>(o_.beta2),
                                        static_cast<float>(o_.eps), state_.data(), ctx_->stream());
        }
    }
    const AdamOptions& options() const { return o_; }
    long long step_count() {
        ANN_CUDA_CHECK(cudaMemcpyAsync(&host_, state_.data(), sizeof host_, cudaMemcpyDeviceToHost, ctx_->stream()));
        ctx_->synchronize();
        return host_.t;
    }

private:
    void upload_state() {
        ANN_CUDA_CHECK(cudaMemcpyAsync(state_.data(), &host_, sizeof host_, cudaMemcpyHostToDevice, ctx_->stream()));
        ctx_->synchronize();
    }
    AdamOptions o_;
    kernels::AdamState host_{};
    DeviceBuffer<kernels::AdamState> state_;
    std::vector<DeviceTensor> m_, v_;
};

}  // namespace ann::cuda
