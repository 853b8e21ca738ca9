#pragma once
// SGD with momentum, PyTorch's rule (dampening 0, no Nesterov, no weight decay):
//   b <- g                (first step)        b <- momentum * b + g   (later steps)
//   p <- p - lr * b       (with momentum 0:   p <- p - lr * g)
#include "ann/backend/registry.hpp"
#include "ann/optim/optimizer.hpp"

namespace ann {

template <class T>
class SGD : public Optimizer<T> {
public:
    SGD(std::vector<Parameter<T>*> params, double lr, double momentum = 0.0)
        : Optimizer<T>(std::move(params), lr), momentum_(momentum) {
        if (!(momentum >= 0.0)) fail("SGD: momentum must be >= 0, got ", momentum);
        buf_.resize(this->params_.size());
    }

    void step() override {
        const T lr = static_cast<T>(this->lr_), mu = static_cast<T>(momentum_);
        for (std::size_t i = 0; i < this->params_.size(); ++i) {
            auto& p = *this->params_[i];
            auto& ops = backend<T>(p.device());
            if (momentum_ == 0.0) {
                ops.sgd_update(p.value.data(), p.grad.data(), nullptr, p.size(), lr, mu, false);
                continue;
            }
            // First step: buffer = gradient. An unstarted buffer is an empty Array.
            const bool first = buf_[i].size() != p.size();
            if (first) buf_[i] = Array<T>(p.value.shape(), p.device());
            this->check_device(i, buf_[i]);
            ops.sgd_update(p.value.data(), p.grad.data(), buf_[i].data(), p.size(), lr, mu, first);
        }
    }

    double momentum() const { return momentum_; }
    // Momentum buffers, one per parameter (empty before the first step); for checkpoints.
    std::vector<Array<T>>& state() { return buf_; }

private:
    double momentum_;
    std::vector<Array<T>> buf_;
};

}  // namespace ann
