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
    // A state tensor on another device than its parameter (the model moved after the optimizer
    // was built, or a checkpoint's state was not placed) is an error, never a silent copy.
    void check_device(std::size_t i, const Array<T>& state) const {
        if (state.device() != params_[i]->device())
            fail("optimizer: the state of parameter ", i, " (", params_[i]->name, ") is on ", to_string(state.device()),
                 ", the parameter on ", to_string(params_[i]->device()),
                 ": build the optimizer after moving the model");
    }

    std::vector<Parameter<T>*> params_;
    double lr_;
};

}  // namespace ann
