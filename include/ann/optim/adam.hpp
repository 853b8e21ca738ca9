#pragma once
// Adam, PyTorch's rule (torch.optim.Adam, no weight decay, no amsgrad):
//   m <- b1 m + (1-b1) g ;  v <- b2 v + (1-b2) g^2 ;  t <- t + 1
//   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
#include <cmath>

#include "ann/backend/registry.hpp"
#include "ann/optim/optimizer.hpp"

namespace ann {

struct AdamOptions {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
};

template <class T>
class Adam : public Optimizer<T> {
public:
    explicit Adam(std::vector<Parameter<T>*> params, AdamOptions o = {})
        : Optimizer<T>(std::move(params), o.lr), o_(o) {
        if (!(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1))
            fail("Adam: betas must be in [0, 1), got (", o.beta1, ", ", o.beta2, ")");
        if (!(o.eps >= 0)) fail("Adam: eps must be >= 0, got ", o.eps);
        // The moments live with their parameter (built after the model moved to its device).
        for (auto* p : this->params_) {
            m_.emplace_back(p->value.shape(), p->device());
            v_.emplace_back(p->value.shape(), p->device());
            m_.back().zero();
            v_.back().zero();
        }
    }
    Adam(std::vector<Parameter<T>*> params, double lr) : Adam(std::move(params), AdamOptions{lr}) {}

    void step() override {
        ++t_;
        const double bc1 = 1.0 - std::pow(o_.beta1, static_cast<double>(t_));
        const double bc2 = 1.0 - std::pow(o_.beta2, static_cast<double>(t_));
        const T step_size = static_cast<T>(this->lr_ / bc1);
        const T sqrt_bc2 = static_cast<T>(std::sqrt(bc2));
        const T b1 = static_cast<T>(o_.beta1), b2 = static_cast<T>(o_.beta2), eps = static_cast<T>(o_.eps);
        for (std::size_t i = 0; i < this->params_.size(); ++i) {
            auto& p = *this->params_[i];
            this->check_device(i, m_[i]);
            backend<T>(p.device()).adam_update(p.value.data(), p.grad.data(), m_[i].data(), v_[i].data(), p.size(), b1,
                                               b2, step_size, sqrt_bc2, eps);
        }
    }

    const AdamOptions& options() const { return o_; }
    // Step count and moments; for checkpoints.
    long& step_count() { return t_; }
    std::vector<Array<T>>& first_moments() { return m_; }
    std::vector<Array<T>>& second_moments() { return v_; }

private:
    AdamOptions o_;
    long t_ = 0;
    std::vector<Array<T>> m_, v_;
};

}  // namespace ann
