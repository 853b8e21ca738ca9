#pragma once
// SGD, PyTorch's rule (torch.optim.SGD, dampening 0):
//   d <- g + weight_decay * p                       (L2 form; only with weight_decay > 0)
//   b <- d  (first step)      b <- momentum * b + d  (later steps)
//   d <- d + momentum * b  (nesterov)    d <- b  (otherwise)
//   p <- p - lr * d                                 (with momentum 0: p <- p - lr * d, no buffer)
//   SGD<float> opt(params, SGDOptions{0.1, 0.9, 5e-4, true});   // lr, momentum, weight_decay, nesterov
//   SGD<float> opt(params, 0.1, 0.9);                           // lr, momentum
#include <cmath>
#include <limits>

#include "ann/backend/registry.hpp"
#include "ann/optim/optimizer.hpp"

namespace ann {

struct SGDOptions {
    double lr = std::numeric_limits<double>::quiet_NaN();  // required, as in PyTorch
    double momentum = 0.0;
    double weight_decay = 0.0;
    bool nesterov = false;  // needs momentum > 0 (PyTorch also needs dampening 0, which ann always has)
};

template <class T>
class SGD : public Optimizer<T> {
public:
    SGD(std::vector<Parameter<T>*> params, const SGDOptions& o) : Optimizer<T>(std::move(params), checked(o).lr), o_(o) {
        buf_.resize(this->params_.size());
    }
    SGD(std::vector<Parameter<T>*> params, double lr, double momentum = 0.0)
        : SGD(std::move(params), SGDOptions{lr, momentum}) {}

    void step() override {
        SgdStep<T> h;
        h.lr = static_cast<T>(this->lr_);
        h.momentum = static_cast<T>(o_.momentum);
        h.weight_decay = static_cast<T>(o_.weight_decay);
        h.nesterov = o_.nesterov;
        for (std::size_t i = 0; i < this->params_.size(); ++i) {
            auto& p = *this->params_[i];
            auto& ops = backend<T>(p.device());
            if (o_.momentum == 0.0) {
                ops.sgd_update(p.value.data(), p.grad.data(), nullptr, p.size(), h, false);
                continue;
            }
            // First step: buffer = gradient. An unstarted buffer is an empty Array.
            const bool first = buf_[i].size() != p.size();
            if (first) buf_[i] = Array<T>(p.value.shape(), p.device());
            this->check_device(i, buf_[i]);
            ops.sgd_update(p.value.data(), p.grad.data(), buf_[i].data(), p.size(), h, first);
        }
    }

    const SGDOptions& options() const { return o_; }
    double momentum() const { return o_.momentum; }
    double weight_decay() const { return o_.weight_decay; }
    bool nesterov() const { return o_.nesterov; }
    // Momentum buffers, one per parameter (empty before the first step); for checkpoints.
    std::vector<Array<T>>& state() { return buf_; }

private:
    static const SGDOptions& checked(const SGDOptions& o) {
        if (std::isnan(o.lr)) fail("SGD: no learning rate given (SGDOptions::lr is required)");
        if (!(o.lr >= 0.0)) fail("SGD: learning rate must be >= 0, got ", o.lr);
        if (!(o.momentum >= 0.0)) fail("SGD: momentum must be >= 0, got ", o.momentum);
        if (!(o.weight_decay >= 0.0)) fail("SGD: weight_decay must be >= 0, got ", o.weight_decay);
        if (o.nesterov && !(o.momentum > 0.0))
            fail("SGD: nesterov needs momentum > 0 (and dampening 0), got momentum ", o.momentum);
        return o;
    }

    SGDOptions o_;
    std::vector<Array<T>> buf_;
};

}  // namespace ann
