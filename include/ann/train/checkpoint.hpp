#pragma once
// A training Run saved to and loaded from an io checkpoint file (format: docs/file-format.md).
//   save_run(path, run, "cnn_4", {{"options", fingerprint}});
//   nlohmann::json extra = load_run(path, run, "cnn_4");   // run continues exactly
// The file holds the model, the optimizer's full state (SGD, Adam or AdamW, found by dynamic
// type), the scheduler's state when the run has one (a checkpoint with one loads only into a run
// with one of the same kind, and vice versa), the order Rng and, as the loop state, the counters, the curves recorded so far, the
// divergence mark and the caller's `extra` object. Loading it into a run built the same way
// (same architecture, same optimizer type) and calling train_epochs again gives the same
// curves, bit for bit, as a run that was never stopped (tests/test_resume.cpp).
//
// JSON has no NaN or Inf: curve values that are not finite are stored as null and read back as
// NaN (only a diverged run's last loss can be one).
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ann/io/checkpoint.hpp"
#include "ann/io/json_file.hpp"
#include "ann/optim/adam.hpp"
#include "ann/optim/sgd.hpp"
#include "ann/train/run.hpp"

namespace ann::train {

template <class T>
nlohmann::json run_loop_state(const Run<T>& r, const nlohmann::json& extra) {
    nlohmann::json curves = nlohmann::json::object();
    for (const auto& [key, values] : r.curves) curves[key] = values;  // non-finite -> null
    return {{"epoch", r.epoch},       {"step", r.step},
            {"seconds", r.seconds},   {"diverged", r.diverged},
            {"diverged_step", r.diverged_step}, {"curves", curves},
            {"extra", extra}};
}

template <class T>
void save_run(const std::string& path, Run<T>& r, const std::string& architecture, const nlohmann::json& extra = {}) {
    const nlohmann::json loop = run_loop_state(r, extra);
    // AdamW is an Adam (its codec tells them apart).
    if (auto* sgd = dynamic_cast<SGD<T>*>(r.optimizer.get()))
        io::save_checkpoint(path, r.model, architecture, *sgd, r.rng, loop, r.scheduler.get());
    else if (auto* adam = dynamic_cast<Adam<T>*>(r.optimizer.get()))
        io::save_checkpoint(path, r.model, architecture, *adam, r.rng, loop, r.scheduler.get());
    else
        fail(path, ": cannot save ", r.label, ": its optimizer is neither SGD nor Adam/AdamW");
}

// Loads a checkpoint into `r` (model, optimizer, rng, counters, curves); returns the `extra`
// object it was saved with. The label and epochs_planned of `r` are kept. Throws ann::Error
// naming the file if it does not fit the run (architecture, shapes, optimizer kind) or its
// loop state is malformed; on such an error the run must not be used further.
template <class T>
nlohmann::json load_run_bytes(const std::string& bytes, const std::string& path, Run<T>& r, const std::string& architecture);

template <class T>
nlohmann::json load_run(const std::string& path, Run<T>& r, const std::string& architecture) {
    return load_run_bytes(io::read_file(path), path, r, architecture);
}

// The same from the file's bytes, read elsewhere (dist/: by process 0 only); path names it in errors.
template <class T>
nlohmann::json load_run_bytes(const std::string& bytes, const std::string& path, Run<T>& r, const std::string& architecture) {
    // Stage the loop state first: a malformed one fails before anything is applied.
    Run<T> staged;
    nlohmann::json extra;
    try {
        const auto rec = io::parse_checkpoint_file(bytes, path);
        const auto loop = io::parse_json(rec.loop_state, path + " (its loop state)");
        staged.epoch = loop.at("epoch").get<std::size_t>();
        staged.step = loop.at("step").get<std::size_t>();
        staged.seconds = loop.at("seconds").get<double>();
        staged.diverged = loop.at("diverged").get<bool>();
        staged.diverged_step = loop.at("diverged_step").get<std::size_t>();
        for (const auto& item : loop.at("curves").items()) {
            auto& c = staged.curves[item.key()];
            for (const nlohmann::json& v : item.value())
                c.push_back(v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>());
        }
        extra = loop.value("extra", nlohmann::json::object());
    } catch (const nlohmann::json::exception& e) {
        fail(path, ": the checkpoint's loop state is not what a training run saves (", e.what(), ")");
    }
    if (auto* sgd = dynamic_cast<SGD<T>*>(r.optimizer.get()))
        io::decode_checkpoint(bytes, path, r.model, architecture, *sgd, r.rng, r.scheduler.get());
    else if (auto* adam = dynamic_cast<Adam<T>*>(r.optimizer.get()))
        io::decode_checkpoint(bytes, path, r.model, architecture, *adam, r.rng, r.scheduler.get());
    else
        fail(path, ": cannot load into ", r.label, ": its optimizer is neither SGD nor Adam/AdamW");
    r.epoch = staged.epoch;
    r.step = staged.step;
    r.seconds = staged.seconds;
    r.diverged = staged.diverged;
    r.diverged_step = staged.diverged_step;
    r.curves = std::move(staged.curves);
    return extra;
}

}  // namespace ann::train
