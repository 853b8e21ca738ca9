#pragma once
// An optimizer's resumable state in a checkpoint (docs/file-format.md, "optimizer section"):
//   string kind ("sgd" | "adam" | "adamw") | f64 lr | u32 n, n x (string name, f64 value) hyperparameters |
//   i64 step count | u32 slots, each: string slot name, u32 n, n x (u8 present, [tensor record])
// SGD: hyperparameters momentum, then weight_decay and nesterov (1) only when not 0; slot
//      "momentum_buffer" (absent before the first step, and always with momentum 0); step count 0.
// Adam, AdamW: hyperparameters beta1, beta2, eps, then weight_decay only when not 0; step count t;
//      slots "exp_avg", "exp_avg_sq".
// The switch-like hyperparameters are left out when off, so files from before they existed read
// as "off", and files that do not use them still load into older builds.
// Loading checks kind, hyperparameters, slot names, counts and shapes against the live
// optimizer (an Adam checkpoint never loads into SGD or AdamW; a changed momentum is an error,
// since the run would not be the one that was saved); the learning rate is restored from the file.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ann/io/hyperparameters.hpp"
#include "ann/io/tensor_record.hpp"
#include "ann/optim/adam.hpp"
#include "ann/optim/sgd.hpp"

namespace ann::io {

struct OptimizerRecord {
    struct Slot {
        std::string name;
        std::vector<std::optional<TensorRecord>> tensors;  // one per parameter; nullopt = absent
    };
    std::string kind;
    double lr = 0;
    std::vector<std::pair<std::string, double>> hyperparameters;
    std::int64_t step = 0;
    std::vector<Slot> slots;
};

inline OptimizerRecord read_optimizer_section(ByteReader& r) {
    OptimizerRecord rec;
    rec.kind = r.string("optimizer kind", kMaxNameLength);
    rec.lr = r.f64("learning rate");
    const std::uint32_t nh = r.u32("hyperparameter count");
    for (std::uint32_t i = 0; i < nh; ++i) {
        std::string name = r.string("hyperparameter name", kMaxNameLength);
        const double v = r.f64("hyperparameter '" + name + "'");
        rec.hyperparameters.emplace_back(std::move(name), v);
    }
    rec.step = r.i64("step count");
    const std::uint32_t ns = r.u32("optimizer slot count");
    for (std::uint32_t s = 0; s < ns; ++s) {
        OptimizerRecord::Slot slot;
        slot.name = r.string("optimizer slot name", kMaxNameLength);
        const std::uint32_t n = r.u32("slot '" + slot.name + "' tensor count");
        for (std::uint32_t i = 0; i < n; ++i) {
            const std::string what = "slot '" + slot.name + "' tensor " + std::to_string(i);
            const std::size_t at = r.offset();
            const std::uint8_t present = r.u8(what + " presence flag");
            if (present > 1) r.fail_at(at, what, ": presence flag is ", int(present), ", expected 0 or 1");
            if (present)
                slot.tensors.emplace_back(read_tensor_record(r, what));
            else
                slot.tensors.emplace_back(std::nullopt);
        }
        rec.slots.push_back(std::move(slot));
    }
    return rec;
}

// What an optimizer kind looks like in a file; the codecs below fill it in.
template <class T>
struct OptimizerLayout {
    const char* kind;          // "sgd"
    const char* display_name;  // "SGD", for messages
    double lr;
    std::vector<std::pair<std::string, double>> hyperparameters;  // as written: optional ones only when not 0
    std::vector<std::string> optional;                            // names that mean 0 when absent
    std::int64_t step;
    std::vector<std::pair<std::string, std::vector<Array<T>>*>> slots;
    bool slots_may_be_absent;
    std::vector<Parameter<T>*> params;
};

template <class T>
void write_optimizer_section(ByteWriter& w, const OptimizerLayout<T>& o) {
    w.string(o.kind);
    w.f64(o.lr);
    w.u32(static_cast<std::uint32_t>(o.hyperparameters.size()));
    for (const auto& [name, v] : o.hyperparameters) {
        w.string(name);
        w.f64(v);
    }
    w.i64(o.step);
    w.u32(static_cast<std::uint32_t>(o.slots.size()));
    for (const auto& [name, tensors] : o.slots) {
        w.string(name);
        w.u32(static_cast<std::uint32_t>(tensors->size()));
        for (std::size_t i = 0; i < tensors->size(); ++i) {
            const Array<T>& t = (*tensors)[i];
            // A buffer exists once it has its parameter's shape (SGD's start as empty arrays).
            const bool present = i < o.params.size() && t.shape() == o.params[i]->value.shape();
            w.u8(present ? 1 : 0);
            if (present) write_tensor_record(w, name + "." + std::to_string(i), t);
        }
    }
}

// Checked new state, not yet applied to the optimizer.
template <class T>
struct StagedOptimizer {
    double lr = 0;
    std::int64_t step = 0;
    std::vector<std::vector<Tensor<T>>> slots;
};

template <class T>
StagedOptimizer<T> stage_optimizer(const OptimizerRecord& rec, const OptimizerLayout<T>& live, const std::string& source) {
    auto display = [](const std::string& kind) -> std::string {
        if (kind == "sgd") return "SGD";
        if (kind == "adam") return "Adam";
        if (kind == "adamw") return "AdamW";
        return "'" + kind + "'";
    };
    if (rec.kind != live.kind)
        fail(source, ": holds ", display(rec.kind), " optimizer state, cannot load it into ", live.display_name);
    if (!(std::isfinite(rec.lr) && rec.lr >= 0))
        fail(source, ": invalid learning rate ", rec.lr, " in the file");
    if (rec.step < 0) fail(source, ": invalid ", live.display_name, " step count ", rec.step, " in the file");
    check_hyperparameters(rec.hyperparameters, live.hyperparameters, live.optional, live.display_name, "optimizer", source);
    if (rec.slots.size() != live.slots.size())
        fail(source, ": holds ", rec.slots.size(), " ", live.display_name, " state slots, expected ", live.slots.size());
    StagedOptimizer<T> staged;
    staged.lr = rec.lr;
    staged.step = rec.step;
    for (std::size_t s = 0; s < live.slots.size(); ++s) {
        const auto& slot = rec.slots[s];
        const std::string& name = live.slots[s].first;
        if (slot.name != name)
            fail(source, ": ", live.display_name, " state slot ", s, " is '", slot.name, "' in the file, expected '", name, "'");
        if (slot.tensors.size() != live.params.size())
            fail(source, ": ", live.display_name, " slot '", name, "' has ", slot.tensors.size(),
                 " tensors, the optimizer has ", live.params.size(), " parameters");
        std::vector<Tensor<T>> tensors;
        for (std::size_t i = 0; i < live.params.size(); ++i) {
            if (!slot.tensors[i]) {
                if (!live.slots_may_be_absent)
                    fail(source, ": ", live.display_name, " slot '", name, "' tensor ", i, " is missing");
                tensors.emplace_back();  // what SGD holds before its first step
                continue;
            }
            tensors.push_back(to_tensor<T>(*slot.tensors[i], live.params[i]->value.shape(), source,
                                           std::string(live.display_name) + " state"));
        }
        staged.slots.push_back(std::move(tensors));
    }
    return staged;
}

// A staged slot as the optimizer's state: each tensor on its parameter's device; an absent one
// (a default tensor, rank 0) stays an empty array.
template <class T>
std::vector<Array<T>> place_slot(std::vector<Tensor<T>>&& tensors, const std::vector<Parameter<T>*>& params) {
    std::vector<Array<T>> out;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        Array<T> a;
        if (tensors[i].dimension() != 0) {
            a = Array<T>(std::move(tensors[i]));
            a.move_to(params[i]->device());
        }
        out.push_back(std::move(a));
    }
    return out;
}

// OptimizerCodec<Opt>: layout(opt) describes a live optimizer; commit(opt, staged) applies
// checked state and cannot fail. Specialised for each optimizer a checkpoint can hold.
template <class Opt>
struct OptimizerCodec;

template <class T>
struct OptimizerCodec<SGD<T>> {
    static OptimizerLayout<T> layout(SGD<T>& opt) {
        std::vector<std::pair<std::string, double>> hyper{{"momentum", opt.momentum()}};
        if (opt.weight_decay() != 0) hyper.emplace_back("weight_decay", opt.weight_decay());
        if (opt.nesterov()) hyper.emplace_back("nesterov", 1.0);
        return {"sgd", "SGD", opt.lr(), std::move(hyper), {"weight_decay", "nesterov"}, 0,
                {{"momentum_buffer", &opt.state()}}, true, opt.params()};
    }
    static void commit(SGD<T>& opt, StagedOptimizer<T>& staged) {
        opt.set_lr(staged.lr);
        opt.state() = place_slot(std::move(staged.slots[0]), opt.params());
    }
};

// Adam and AdamW (one class, told apart by decoupled()): kinds "adam" and "adamw".
template <class T>
struct OptimizerCodec<Adam<T>> {
    static OptimizerLayout<T> layout(Adam<T>& opt) {
        const auto& o = opt.options();
        std::vector<std::pair<std::string, double>> hyper{{"beta1", o.beta1}, {"beta2", o.beta2}, {"eps", o.eps}};
        if (o.weight_decay != 0) hyper.emplace_back("weight_decay", o.weight_decay);
        return {opt.decoupled() ? "adamw" : "adam",
                opt.name(),
                opt.lr(),
                std::move(hyper),
                {"weight_decay"},
                static_cast<std::int64_t>(opt.step_count()),
                {{"exp_avg", &opt.first_moments()}, {"exp_avg_sq", &opt.second_moments()}},
                false,
                opt.params()};
    }
    static void commit(Adam<T>& opt, StagedOptimizer<T>& staged) {
        opt.set_lr(staged.lr);
        opt.step_count() = static_cast<long>(staged.step);
        opt.first_moments() = place_slot(std::move(staged.slots[0]), opt.params());
        opt.second_moments() = place_slot(std::move(staged.slots[1]), opt.params());
    }
};

template <class T>
struct OptimizerCodec<AdamW<T>> : OptimizerCodec<Adam<T>> {};

}  // namespace ann::io
