#pragma once
// Adam and AdamW, PyTorch's rules (torch.optim.Adam / torch.optim.AdamW, no amsgrad), one step:
//   Adam:  d <- g + weight_decay * p           (L2 form; only with weight_decay > 0)
//   AdamW: p <- p * (1 - lr * weight_decay)    (decoupled decay, before the Adam step; d <- g)
//   m <- b1 m + (1-b1) d ;  v <- b2 v + (1-b2) d^2 ;  t <- t + 1
//   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// One class does both (a flag picks where the decay goes); AdamW is Adam with the flag set and
// PyTorch's AdamW default weight_decay 0.01.
#include <cmath>

#include "ann/backend/registry.hpp"
#include "ann/optim/optimizer.hpp"

namespace ann {

struct AdamOptions {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.0;
};

// The same fields with torch.optim.AdamW's defaults.
struct AdamWOptions {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 1e-2;
};

template <class T>
class Adam : public Optimizer<T> {
public:
    explicit Adam(std::vector<Parameter<T>*> params, AdamOptions o = {}) : Adam(std::move(params), o, false) {}
    Adam(std::vector<Parameter<T>*> params, double lr) : Adam(std::move(params), AdamOptions{lr}) {}

    void step() override {
        ++t_;
        const double bc1 = 1.0 - std::pow(o_.beta1, static_cast<double>(t_));
        const double bc2 = 1.0 - std::pow(o_.beta2, static_cast<double>(t_));
        AdamStep<T> h;
        h.beta1 = static_cast<T>(o_.beta1);
        h.beta2 = static_cast<T>(o_.beta2);
        h.step_size = static_cast<T>(this->lr_ / bc1);
        h.sqrt_bc2 = static_cast<T>(std::sqrt(bc2));
        h.eps = static_cast<T>(o_.eps);
        if (decoupled_)
            h.decay = static_cast<T>(1.0 - this->lr_ * o_.weight_decay);  // PyTorch: in double, then to T
        else
            h.weight_decay = static_cast<T>(o_.weight_decay);
        for (std::size_t i = 0; i < this->params_.size(); ++i) {
            auto& p = *this->params_[i];
            this->check_device(i, m_[i]);
            backend<T>(p.device()).adam_update(p.value.data(), p.grad.data(), m_[i].data(), v_[i].data(), p.size(), h);
        }
    }

    const AdamOptions& options() const { return o_; }
    // True for AdamW: weight decay applied to the weights, not added to the gradient.
    bool decoupled() const { return decoupled_; }
    const char* name() const { return decoupled_ ? "AdamW" : "Adam"; }
    // Step count and moments; for checkpoints.
    long& step_count() { return t_; }
    std::vector<Array<T>>& first_moments() { return m_; }
    std::vector<Array<T>>& second_moments() { return v_; }

protected:
    Adam(std::vector<Parameter<T>*> params, const AdamOptions& o, bool decoupled)
        : Optimizer<T>(std::move(params), checked(o, decoupled).lr), o_(o), decoupled_(decoupled) {
        // The moments live with their parameter (built after the model moved to its device).
        for (auto* p : this->params_) {
            m_.emplace_back(p->value.shape(), p->device());
            v_.emplace_back(p->value.shape(), p->device());
            m_.back().zero();
            v_.back().zero();
        }
    }

private:
    static const AdamOptions& checked(const AdamOptions& o, bool decoupled) {
        const char* name = decoupled ? "AdamW" : "Adam";
        if (!(o.lr >= 0)) fail(name, ": learning rate must be >= 0, got ", o.lr);
        if (!(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1))
            fail(name, ": betas must be in [0, 1), got (", o.beta1, ", ", o.beta2, ")");
        if (!(o.eps >= 0)) fail(name, ": eps must be >= 0, got ", o.eps);
        if (!(o.weight_decay >= 0)) fail(name, ": weight_decay must be >= 0, got ", o.weight_decay);
        return o;
    }

    AdamOptions o_;
    bool decoupled_;
    long t_ = 0;
    std::vector<Array<T>> m_, v_;
};

// torch.optim.AdamW: Adam with decoupled weight decay (default 0.01).
template <class T>
class AdamW : public Adam<T> {
public:
    explicit AdamW(std::vector<Parameter<T>*> params, const AdamWOptions& o = {})
        : Adam<T>(std::move(params), AdamOptions{o.lr, o.beta1, o.beta2, o.eps, o.weight_decay}, true) {}
    AdamW(std::vector<Parameter<T>*> params, double lr) : AdamW(std::move(params), AdamWOptions{lr}) {}
};

}  // namespace ann
