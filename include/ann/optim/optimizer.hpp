#pragma once
// Optimizer base: holds pointers to parameters it does not own. Changing the learning rate
// of a live optimizer (set_lr), or building a new optimizer over the same parameters,
// never touches the parameters' values: the homework's scheduled learning rate relies on it.
#include <vector>

#include "ann/core/error.hpp"
#include "ann/core/parameter.hpp"

namespace ann {

template <class T>
class Optimizer {
public:
    Optimizer(std::vector<Parameter<T>*> params, double lr) : params_(std::move(params)), lr_(lr) {
        if (!(lr >= 0.0)) fail("optimizer: learning rate must be >= 0, got ", lr);
        for (auto* p : params_)
            if (!p) fail("optimizer: null parameter");
    }
    virtual ~Optimizer() = default;

    virtual void step() = 0;
    void zero_grad() {
        for (auto* p : params_) p->zero_grad();
    }
    double lr() const { return lr_; }
    void set_lr(double lr) {
        if (!(lr >= 0.0)) fail("optimizer: learning rate must be >= 0, got ", lr);
        lr_ = lr;
    }
    const std::vector<Parameter<T>*>& params() const { return params_; }

protected:
    std::vector<Parameter<T>*> params_;
    double lr_;
};

}  // namespace ann
