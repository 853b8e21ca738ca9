#pragma once
// One training run and its loop.
//
// Everything a run is made of lives in Run: model, optimizer, the Rng that orders every
// epoch, the epoch/step counters and the curves recorded so far. There is no other state
// (no global Rng, no static buffers), so saving a Run after an epoch and loading it again
// continues the run exactly; same seed + same thread count => the same curves.
//
// Recording (every `every` steps, on global steps 0, every, 2*every, ... counted from 0):
//   "loss"      the mean cross-entropy of that step's batch, before the update
//   "grad_norm" the Frobenius norm of that step's gradient of the loss with respect to the first
//               layer's weight (sqrt of the sum of squares of dL/dW1 for that batch, before the
//               update): the homework's "magnitude of the loss gradient", part 4
//   "train_acc" accuracy (percent) on RecordOptions' fixed training-evaluation subset, after the update
//   "val_acc"   accuracy (percent) on the validation set, after the update
// Accuracies are measured in evaluation mode (see train/evaluate.hpp).
//
// Devices: the loop is the same for every device. The run trains on the device its model is on
// (run.model.to(Device::cuda) before building the optimizer); batches are filled on the host
// and copied there, the loss comes back to the host every step (the divergence check needs
// it before the update), and the first layer's gradient on recording steps.
//
// Divergence: a step whose loss is not finite (NaN or Inf) ends the run at once, before its
// update: run.diverged is set, run.diverged_step names the step (its loss is recorded if it
// falls on a recording step), and train_epochs returns; a diverged run is never trained further.
// Data-parallel: with d.collective set (P processes, the same Run built the same way on each), every
// process trains on its shard of each batch and the gradients are summed before the update
// (train/collective.hpp); curves, counters and weights stay the same on every process. Only the
// caller's on_epoch_end decides who writes checkpoints (dist/: process 0).
// Learning-rate schedule: with run.scheduler set (built on *run.optimizer), it is stepped at the end of
// every completed epoch, before on_epoch_end (so an epoch-end checkpoint holds the rate the next
// epoch uses). ReduceLROnPlateau watches the epoch's mean training loss: the mean, in double, of
// the batch losses of all the epoch's steps (recorded or not), so its default mode, min, fits. A
// diverged epoch does not step it.
// Interruption: if `stop` is given and becomes true (a SIGINT handler sets it), train_epochs
// throws Interrupted between two steps; the last epoch-end checkpoint is what resumes.
#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ann/core/rng.hpp"
#include "ann/data/batches.hpp"
#include "ann/layers/sequential.hpp"
#include "ann/loss/cross_entropy.hpp"
#include "ann/optim/lr_scheduler.hpp"
#include "ann/optim/optimizer.hpp"
#include "ann/train/collective.hpp"
#include "ann/train/evaluate.hpp"
#include "ann/train/progress.hpp"

namespace ann::train {

struct TrainData {
    const data::CifarSet* images = nullptr;  // the set all three index lists point into
    data::Indices train;                     // trained on, reshuffled every epoch
    data::Indices train_eval;                // fixed subset on which training accuracy is measured
    data::Indices val;                       // validation set
    Collective* collective = nullptr;        // data-parallel: the processes sharing every step
};

struct RecordOptions {
    std::size_t batch = 50;   // training batch
    std::size_t every = 10;   // record every this many steps
    bool train_acc = false;
    bool val_acc = false;
    bool grad_norm = false;
};

// Thrown by train_epochs when its stop flag is raised (Ctrl-C); not an error.
struct Interrupted : std::runtime_error {
    Interrupted(const std::string& run, std::size_t epoch)
        : std::runtime_error(run + ": interrupted during epoch " + std::to_string(epoch + 1)), label(run),
          epochs_done(epoch) {}
    std::string label;
    std::size_t epochs_done;
};

template <class T>
struct Run {
    std::string label;                            // shown in progress lines, e.g. "part3 cnn_4"
    Sequential<T> model;
    std::unique_ptr<Optimizer<T>> optimizer;
    std::unique_ptr<LrScheduler<T>> scheduler;    // optional; steps *optimizer once per epoch
    Rng rng;                                      // orders the images of every epoch
    std::size_t epoch = 0;                        // epochs completed
    std::size_t step = 0;                         // optimizer steps completed
    std::size_t epochs_planned = 0;               // for progress and time-left estimates
    std::map<std::string, std::vector<double>> curves;
    double seconds = 0;                           // wall time spent in train_epochs so far
    bool diverged = false;                        // a step's loss was NaN or Inf: the run stopped there
    std::size_t diverged_step = 0;                // that step (0-based, counted like `step`)

    const std::vector<double>& curve(const std::string& key) const {
        auto it = curves.find(key);
        if (it == curves.end()) fail(label, ": no curve '", key, "' was recorded");
        return it->second;
    }
};

// The weight of the model's first layer with parameters (the homework's "first layer").
template <class T>
Parameter<T>& first_layer_weight(Sequential<T>& model) {
    return *model.first_parametric_layer().parameters().front();
}

template <class T>
double frobenius_norm(const Array<T>& t) {
    return std::sqrt(sum_of_squares(t));
}

// Trains until run.epoch == until_epoch, recording as `rec` says. ev may be null when no
// accuracy is recorded; progress may be null.
// on_epoch_end, if given, is called after every epoch (snapshots, checkpoints).
template <class T>
void train_epochs(Run<T>& run, std::size_t until_epoch, const TrainData& d, const RecordOptions& rec,
                  Evaluator<T>* ev, Progress* progress,
                  const std::function<void(Run<T>&)>& on_epoch_end = {},
                  const std::atomic<bool>* stop = nullptr) {
    if (run.diverged) return;
    if (!d.images) fail(run.label, ": no training images");
    if (d.train.empty()) fail(run.label, ": empty training set");
    if (!run.optimizer) fail(run.label, ": no optimizer");
    if (run.scheduler && &run.scheduler->optimizer() != run.optimizer.get())
        fail(run.label, ": its ", run.scheduler->name(), " was built on another optimizer than the run's");
    if (rec.batch == 0 || rec.every == 0) fail(run.label, ": batch size and recording interval must be positive");
    if ((rec.train_acc || rec.val_acc) && !ev) fail(run.label, ": accuracy recording needs an Evaluator");
    if (rec.train_acc && d.train_eval.empty()) fail(run.label, ": no images for training accuracy");
    if (rec.val_acc && d.val.empty()) fail(run.label, ": empty validation set");

    const std::size_t nb = data::num_batches(d.train.size(), rec.batch);
    const std::size_t planned = std::max(run.epochs_planned, until_epoch);
    CrossEntropyLoss<T> ce;
    Collective* const team = d.collective;
    // Every step's gradients and loss, summed in one call: latency, not bandwidth, is what a
    // step's communication costs for these models (docs/distributed.md).
    std::unique_ptr<FlatParameters<T>> flat;
    if (team) {
        flat = std::make_unique<FlatParameters<T>>(run.model, 1);
        broadcast_parameters(*team, run.model);
    }
    Array<T> x, x_device;  // the batch (this process's shard of it) on the host, and its copy on the model's device
    std::vector<long> y;
    double last_loss = run.curves.count("loss") && !run.curves["loss"].empty() ? run.curves["loss"].back() : 0.0;
    double last_acc = run.curves.count("val_acc") && !run.curves["val_acc"].empty() ? run.curves["val_acc"].back() : -1.0;
    const auto t0 = std::chrono::steady_clock::now();
    const double seconds0 = run.seconds;
    const std::size_t step0 = run.step;
    auto info = [&]() {
        ProgressInfo p;
        p.run = run.label;
        p.epoch = std::min(run.epoch + 1, planned);
        p.epochs = planned;
        p.step = run.step;
        p.steps = planned * nb;
        p.loss = last_loss;
        p.acc = last_acc;
        const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        p.elapsed = seconds0 + el;
        const double per_step = run.step > step0 ? el / static_cast<double>(run.step - step0) : 0.0;
        p.images_per_s = per_step > 0 ? static_cast<double>(rec.batch) / per_step : 0.0;
        p.seconds_left = per_step * static_cast<double>(p.steps > run.step ? p.steps - run.step : 0);
        return p;
    };

    run.model.train();
    while (run.epoch < until_epoch && !run.diverged) {
        const data::Indices order = data::epoch_order(d.train, run.rng);
        double epoch_loss = 0;  // sum of this epoch's batch losses, for ReduceLROnPlateau
        for (std::size_t b = 0; b < nb; ++b) {
            if (stop && stop->load()) throw Interrupted(run.label, run.epoch);
            const std::size_t start = b * rec.batch, n = std::min(rec.batch, order.size() - start);
            run.optimizer->zero_grad();
            T loss;
            if (!team) {
                data::fill_batch(*d.images, order.data() + start, n, x, y);
                loss = ce.forward(run.model.forward(staged_on(run.model.device(), x, x_device)), y);
                run.model.backward(ce.backward());
            } else {
                const auto [lo, hi] = shard_range(n, team->rank(), team->size());
                double shard_loss = 0;  // an empty shard adds nothing to the loss or the gradients
                if (hi > lo) {
                    data::fill_batch(*d.images, order.data() + start + lo, hi - lo, x, y);
                    run.model.set_first_image(lo);
                    shard_loss = ce.forward_shard(run.model.forward(x), y, n);
                    run.model.backward(ce.backward());
                }
                flat->pack_step(hi > lo, team->rank() == team->size() - 1);
                // This shard's share of the batch's mean loss, rounded once to T: with one
                // process exactly the single-process loss; with P, a sum of P rounded shares.
                *flat->extra() = static_cast<T>(shard_loss / static_cast<double>(n));
                team->sum(flat->buffer().data(), flat->buffer().size());
                flat->unpack_step(std::min<std::size_t>(n, static_cast<std::size_t>(team->size())));
                loss = *flat->extra();
            }
            const bool record = run.step % rec.every == 0;
            if (record) {
                // A diverged run (NaN loss) is recorded as it is: it is a result, not an error.
                run.curves["loss"].push_back(static_cast<double>(loss));
                last_loss = static_cast<double>(loss);
                if (rec.grad_norm) run.curves["grad_norm"].push_back(frobenius_norm(first_layer_weight(run.model).grad));
            }
            if (!std::isfinite(static_cast<double>(loss))) {
                run.diverged = true;
                run.diverged_step = run.step;
                break;
            }
            run.optimizer->step();
            epoch_loss += static_cast<double>(loss);
            if (record) {
                if (rec.train_acc) run.curves["train_acc"].push_back(ev->accuracy(run.model, *d.images, d.train_eval, team));
                if (rec.val_acc) {
                    last_acc = ev->accuracy(run.model, *d.images, d.val, team);
                    run.curves["val_acc"].push_back(last_acc);
                }
            }
            ++run.step;
            if (progress) progress->update(info());
        }
        if (run.diverged) break;
        ++run.epoch;
        if (run.scheduler) {
            if (run.scheduler->needs_metric())
                run.scheduler->step(epoch_loss / static_cast<double>(nb));
            else
                run.scheduler->step();
        }
        if (on_epoch_end) on_epoch_end(run);
    }
    run.seconds = seconds0 + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (progress) progress->done(info());
}

}  // namespace ann::train
