#pragma once
// torch.optim.lr_scheduler.ReduceLROnPlateau (PyTorch 1.13): step(metric) once per epoch; when the
// metric has not improved for more than `patience` epochs, lr <- max(lr * factor, min_lr) (skipped
// when that changes lr by eps or less), then `cooldown` epochs in which bad epochs are not counted.
// "Improved" against the best value so far:
//   min/rel: metric < best (1 - threshold)    min/abs: metric < best - threshold
//   max/rel: metric > best (1 + threshold)    max/abs: metric > best + threshold
//   ReduceLROnPlateau<float> s(opt, {PlateauMode::max, 0.5, 3});   // mode, factor, patience, ...
#include <algorithm>
#include <cmath>
#include <limits>

#include "ann/optim/lr_scheduler.hpp"

namespace ann {

enum class PlateauMode { min, max };
enum class ThresholdMode { rel, abs };

struct ReduceLROnPlateauOptions {
    PlateauMode mode = PlateauMode::min;
    double factor = 0.1;
    long patience = 10;
    double threshold = 1e-4;
    ThresholdMode threshold_mode = ThresholdMode::rel;
    long cooldown = 0;
    double min_lr = 0.0;
    double eps = 1e-8;
};

template <class T>
class ReduceLROnPlateau : public LrScheduler<T> {
public:
    explicit ReduceLROnPlateau(Optimizer<T>& opt, const ReduceLROnPlateauOptions& o = {})
        : LrScheduler<T>(opt), o_(o), best_(worst()) {
        if (!(o.factor >= 0 && o.factor < 1)) fail("ReduceLROnPlateau: factor must be in [0, 1), got ", o.factor);
        if (o.patience < 0) fail("ReduceLROnPlateau: patience must be >= 0, got ", o.patience);
        if (!(o.threshold >= 0)) fail("ReduceLROnPlateau: threshold must be >= 0, got ", o.threshold);
        if (o.cooldown < 0) fail("ReduceLROnPlateau: cooldown must be >= 0, got ", o.cooldown);
        if (!(o.min_lr >= 0)) fail("ReduceLROnPlateau: min_lr must be >= 0, got ", o.min_lr);
        if (!(o.eps >= 0)) fail("ReduceLROnPlateau: eps must be >= 0, got ", o.eps);
    }
    using LrScheduler<T>::step;

    const char* name() const override { return "ReduceLROnPlateau"; }
    const char* kind() const override { return "reduce_lr_on_plateau"; }
    bool needs_metric() const override { return true; }
    void step(double metric) override {
        ++this->last_epoch_;
        if (better(metric)) {
            best_ = metric;
            bad_epochs_ = 0;
        } else {
            ++bad_epochs_;
        }
        if (cooldown_counter_ > 0) {
            --cooldown_counter_;
            bad_epochs_ = 0;  // bad epochs in cooldown do not count
        }
        if (bad_epochs_ > o_.patience) {
            const double old_lr = this->opt_->lr();
            const double new_lr = std::max(old_lr * o_.factor, o_.min_lr);
            if (old_lr - new_lr > o_.eps) this->opt_->set_lr(new_lr);
            cooldown_counter_ = o_.cooldown;
            bad_epochs_ = 0;
        }
    }

    const ReduceLROnPlateauOptions& options() const { return o_; }
    double best() const { return best_; }
    long num_bad_epochs() const { return bad_epochs_; }
    long cooldown_counter() const { return cooldown_counter_; }

    typename LrScheduler<T>::Values hyperparameters() const override {
        return {{"mode_max", o_.mode == PlateauMode::max ? 1.0 : 0.0},
                {"factor", o_.factor},
                {"patience", static_cast<double>(o_.patience)},
                {"threshold", o_.threshold},
                {"threshold_mode_abs", o_.threshold_mode == ThresholdMode::abs ? 1.0 : 0.0},
                {"cooldown", static_cast<double>(o_.cooldown)},
                {"min_lr", o_.min_lr},
                {"eps", o_.eps}};
    }
    typename LrScheduler<T>::Values state() const override {
        return {{"best", best_},
                {"num_bad_epochs", static_cast<double>(bad_epochs_)},
                {"cooldown_counter", static_cast<double>(cooldown_counter_)}};
    }
    void check_state(const std::vector<double>& v, const std::string& source) const override {
        // best: the mode's worst value (+-inf) until the first improvement, then a metric value;
        // never NaN (a NaN metric is never an improvement, as in PyTorch: it counts as a bad epoch).
        if (std::isnan(v.at(0))) fail(source, ": ReduceLROnPlateau best is NaN in the file");
        this->check_count(v.at(1), "num_bad_epochs", source, name());
        this->check_count(v.at(2), "cooldown_counter", source, name());
        if (v[1] > static_cast<double>(o_.patience) || v[2] > static_cast<double>(o_.cooldown))
            fail(source, ": ReduceLROnPlateau num_bad_epochs ", v[1], " / cooldown_counter ", v[2],
                 " in the file exceed patience ", o_.patience, " / cooldown ", o_.cooldown);
    }
    void apply_state(long last_epoch, const std::vector<double>& v) override {
        this->last_epoch_ = last_epoch;
        best_ = v[0];
        bad_epochs_ = static_cast<long>(v[1]);
        cooldown_counter_ = static_cast<long>(v[2]);
    }

private:
    double worst() const {
        const double inf = std::numeric_limits<double>::infinity();
        return o_.mode == PlateauMode::min ? inf : -inf;
    }
    bool better(double a) const {
        const double t = o_.threshold;
        if (o_.mode == PlateauMode::min)
            return o_.threshold_mode == ThresholdMode::rel ? a < best_ * (1. - t) : a < best_ - t;
        return o_.threshold_mode == ThresholdMode::rel ? a > best_ * (t + 1.) : a > best_ + t;
    }

    ReduceLROnPlateauOptions o_;
    double best_;
    long bad_epochs_ = 0;
    long cooldown_counter_ = 0;
};

}  // namespace ann
