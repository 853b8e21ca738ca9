#pragma once
// torch.optim.lr_scheduler.CosineAnnealingLR, as PyTorch 1.13 computes it: recursively from the
// current rate (so a rate changed from outside is followed, and the values are torch's to the
// last bit or two, not the closed form eta_min + (base - eta_min)(1 + cos(pi e / T_max)) / 2):
//   e = 0:                                  lr
//   (e - 1 - T_max) % (2 T_max) == 0:       lr + (base - eta_min)(1 - cos(pi / T_max)) / 2
//   otherwise:   (1 + cos(pi e / T_max)) / (1 + cos(pi (e - 1) / T_max)) (lr - eta_min) + eta_min
// Past T_max the rate climbs back up (PyTorch's SGDR-like continuation), as in torch.
// (Constructing with last_epoch > 0, PyTorch's closed-form first step, is not supported.)
#include <cmath>

#include "ann/optim/lr_scheduler.hpp"

namespace ann {

template <class T>
class CosineAnnealingLR : public LrScheduler<T> {
public:
    CosineAnnealingLR(Optimizer<T>& opt, long T_max, double eta_min = 0.0)
        : LrScheduler<T>(opt), T_max_(T_max), eta_min_(eta_min) {
        if (T_max <= 0 || T_max > (1L << 53)) fail("CosineAnnealingLR: T_max must be in [1, 2^53], got ", T_max);
        if (!(eta_min >= 0)) fail("CosineAnnealingLR: eta_min must be >= 0, got ", eta_min);
    }
    using LrScheduler<T>::step;

    const char* name() const override { return "CosineAnnealingLR"; }
    const char* kind() const override { return "cosine_annealing_lr"; }
    void step() override {
        const long e = ++this->last_epoch_;
        const double pi = 3.141592653589793;  // Python's math.pi
        const double lr = this->opt_->lr(), tmax = static_cast<double>(T_max_);
        double next;
        if ((e - 1 - T_max_) % (2 * T_max_) == 0)  // zero or not: the same in C++'s and Python's %
            next = lr + (this->base_lr_ - eta_min_) * (1 - std::cos(pi / tmax)) / 2;
        else
            next = (1 + std::cos(pi * static_cast<double>(e) / tmax)) / (1 + std::cos(pi * static_cast<double>(e - 1) / tmax)) *
                       (lr - eta_min_) +
                   eta_min_;
        this->opt_->set_lr(next);
    }

    long T_max() const { return T_max_; }
    double eta_min() const { return eta_min_; }

    typename LrScheduler<T>::Values hyperparameters() const override {
        return {{"T_max", static_cast<double>(T_max_)}, {"eta_min", eta_min_}};
    }

private:
    long T_max_;
    double eta_min_;
};

}  // namespace ann
