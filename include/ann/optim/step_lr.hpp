#pragma once
// torch.optim.lr_scheduler.StepLR: every step_size epochs the learning rate is multiplied by gamma.
// PyTorch 1.13 computes it recursively (lr <- lr * gamma at epochs step_size, 2 step_size, ...),
// not as base_lr * gamma^k; so does this, so the rates are the same doubles.
#include "ann/optim/lr_scheduler.hpp"

namespace ann {

template <class T>
class StepLR : public LrScheduler<T> {
public:
    StepLR(Optimizer<T>& opt, long step_size, double gamma = 0.1)
        : LrScheduler<T>(opt), step_size_(step_size), gamma_(gamma) {
        if (step_size <= 0) fail("StepLR: step_size must be > 0, got ", step_size);
        if (!(gamma >= 0)) fail("StepLR: gamma must be >= 0, got ", gamma);
    }
    using LrScheduler<T>::step;

    const char* name() const override { return "StepLR"; }
    const char* kind() const override { return "step_lr"; }
    void step() override {
        const long e = ++this->last_epoch_;
        if (e % step_size_ == 0) this->opt_->set_lr(this->opt_->lr() * gamma_);
    }

    long step_size() const { return step_size_; }
    double gamma() const { return gamma_; }

    typename LrScheduler<T>::Values hyperparameters() const override {
        return {{"step_size", static_cast<double>(step_size_)}, {"gamma", gamma_}};
    }

private:
    long step_size_;
    double gamma_;
};

}  // namespace ann
