#pragma once
// SGD with momentum, PyTorch's rule (dampening 0, no Nesterov, no weight decay):
//   b <- g                (first step)        b <- momentum * b + g   (later steps)
//   p <- p - lr * b       (with momentum 0:   p <- p - lr * g)
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
            T* v = p.value.data();
            const T* g = p.grad.data();
            const std::size_t n = p.value.size();
            if (momentum_ == 0.0) {
                for (std::size_t j = 0; j < n; ++j) v[j] -= lr * g[j];
                continue;
            }
            // First step: buffer = gradient. Compared by shape, not size: an unstarted buffer is
            // an empty xarray, which has size 1 like a one-element parameter.
            if (buf_[i].dimension() != p.value.dimension() || buf_[i].size() != n) {
                buf_[i] = p.grad;
            } else {
                T* b = buf_[i].data();
                for (std::size_t j = 0; j < n; ++j) b[j] = mu * b[j] + g[j];
            }
            const T* b = buf_[i].data();
            for (std::size_t j = 0; j < n; ++j) v[j] -= lr * b[j];
        }
    }

    double momentum() const { return momentum_; }
    // Momentum buffers, one per parameter (empty before the first step); for checkpoints.
    std::vector<Tensor<T>>& state() { return buf_; }

private:
    double momentum_;
    std::vector<Tensor<T>> buf_;
};

}  // namespace ann
