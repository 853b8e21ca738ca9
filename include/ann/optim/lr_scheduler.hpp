#pragma once
// Learning-rate schedulers: PyTorch 1.13's torch.optim.lr_scheduler, stepped once per epoch.
//   ann::CosineAnnealingLR<float> sched(opt, 30);
//   for (epoch...) { train(...); sched.step(); }          // ReduceLROnPlateau: sched.step(metric)
// A scheduler sets its optimizer's learning rate (Optimizer::set_lr) and holds a pointer to it, not
// ownership: the optimizer must outlive it. Construction leaves the rate as it is (PyTorch's
// initial step at epoch 0 returns the optimizer's own rate), so last_epoch() starts at 0.
//
// Checkpoints (io/scheduler_state.hpp) store kind(), hyperparameters() (checked on load: other
// values would not continue the saved run), last_epoch() and state() (restored); the optimizer's
// own learning rate is in its own section.
#include <string>
#include <utility>
#include <vector>

#include "ann/core/error.hpp"
#include "ann/optim/optimizer.hpp"

namespace ann {

template <class T>
class LrScheduler {
public:
    using Values = std::vector<std::pair<std::string, double>>;

    explicit LrScheduler(Optimizer<T>& opt) : opt_(&opt), base_lr_(opt.lr()) {}
    virtual ~LrScheduler() = default;

    virtual const char* name() const = 0;  // "StepLR", for messages
    virtual const char* kind() const = 0;  // "step_lr", in files
    // ReduceLROnPlateau steps on a metric (step(metric)); the others on the epoch count (step()).
    virtual bool needs_metric() const { return false; }
    virtual void step() { fail(name(), ": step() needs the metric the schedule watches: call step(metric)"); }
    virtual void step(double /*metric*/) { fail(name(), ": steps on the epoch count: call step(), not step(metric)"); }

    long last_epoch() const { return last_epoch_; }
    // The optimizer's learning rate after the last step (PyTorch's get_last_lr()).
    double last_lr() const { return opt_->lr(); }
    Optimizer<T>& optimizer() const { return *opt_; }
    // The optimizer's rate when the schedule was built (PyTorch's base_lrs).
    double base_lr() const { return base_lr_; }

    virtual Values hyperparameters() const = 0;
    // What a checkpoint restores besides last_epoch: base_lr, unless a schedule says otherwise.
    virtual Values state() const { return {{"base_lr", base_lr_}}; }
    // Checks values (state()'s entries in order) from a file; throws naming source. apply_state
    // then cannot fail.
    virtual void check_state(const std::vector<double>& values, const std::string& source) const {
        check_lr(values.at(0), "base_lr", source, name());
    }
    virtual void apply_state(long last_epoch, const std::vector<double>& values) {
        last_epoch_ = last_epoch;
        base_lr_ = values[0];
    }

protected:
    static void check_count(double v, const char* what, const std::string& source, const char* scheduler) {
        if (!(v >= 0 && v <= 9007199254740992.0 && v == static_cast<double>(static_cast<long long>(v))))
            fail(source, ": ", scheduler, " ", what, " is ", v, " in the file, expected a whole number >= 0");
    }
    static void check_lr(double v, const char* what, const std::string& source, const char* scheduler) {
        if (!(v >= 0 && v <= 1.7976931348623157e308))
            fail(source, ": ", scheduler, " ", what, " is ", v, " in the file, expected a finite value >= 0");
    }

    Optimizer<T>* opt_;
    long last_epoch_ = 0;
    double base_lr_;
};

}  // namespace ann
