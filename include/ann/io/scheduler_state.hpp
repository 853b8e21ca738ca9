#pragma once
// A learning-rate scheduler's resumable state in a checkpoint (docs/file-format.md, "scheduler
// section"; present only in format version 2 checkpoints):
//   string kind ("step_lr" | "cosine_annealing_lr" | "reduce_lr_on_plateau") |
//   u32 n, n x (string name, f64 value) hyperparameters | i64 last_epoch |
//   u32 n, n x (string name, f64 value) state
// Loading checks kind and hyperparameters (exactly equal, as for optimizers) and the state's names
// and values against the live scheduler, then restores last_epoch and the state.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ann/io/byte_reader.hpp"
#include "ann/io/byte_writer.hpp"
#include "ann/io/hyperparameters.hpp"
#include "ann/io/tensor_record.hpp"  // kMaxNameLength
#include "ann/optim/lr_scheduler.hpp"

namespace ann::io {

inline constexpr std::int64_t kMaxSchedulerEpoch = std::int64_t(1) << 53;

struct SchedulerRecord {
    std::string kind;
    std::vector<std::pair<std::string, double>> hyperparameters;
    std::int64_t last_epoch = 0;
    std::vector<std::pair<std::string, double>> state;
};

inline std::vector<std::pair<std::string, double>> read_named_values(ByteReader& r, const char* what) {
    std::vector<std::pair<std::string, double>> out;
    const std::uint32_t n = r.u32(std::string("scheduler ") + what + " count");
    for (std::uint32_t i = 0; i < n; ++i) {
        std::string name = r.string(std::string("scheduler ") + what + " name", kMaxNameLength);
        const double v = r.f64(std::string("scheduler ") + what + " '" + name + "'");
        out.emplace_back(std::move(name), v);
    }
    return out;
}

inline SchedulerRecord read_scheduler_section(ByteReader& r) {
    SchedulerRecord rec;
    rec.kind = r.string("scheduler kind", kMaxNameLength);
    rec.hyperparameters = read_named_values(r, "hyperparameter");
    rec.last_epoch = r.i64("scheduler last_epoch");
    rec.state = read_named_values(r, "state value");
    return rec;
}

template <class T>
void write_scheduler_section(ByteWriter& w, const LrScheduler<T>& s) {
    auto values = [&](const std::vector<std::pair<std::string, double>>& vs) {
        w.u32(static_cast<std::uint32_t>(vs.size()));
        for (const auto& [name, v] : vs) {
            w.string(name);
            w.f64(v);
        }
    };
    w.string(s.kind());
    values(s.hyperparameters());
    w.i64(s.last_epoch());
    values(s.state());
}

// Checked state, not yet applied.
struct StagedScheduler {
    long last_epoch = 0;
    std::vector<double> values;
};

template <class T>
StagedScheduler stage_scheduler(const SchedulerRecord& rec, const LrScheduler<T>& live, const std::string& source) {
    const char* name = live.name();
    if (rec.kind != live.kind())
        fail(source, ": holds '", rec.kind, "' learning-rate scheduler state, cannot load it into ", name);
    check_hyperparameters(rec.hyperparameters, live.hyperparameters(), {}, name, "scheduler", source);
    // An epoch count; the bound keeps every later step's arithmetic far from overflow.
    if (rec.last_epoch < 0 || rec.last_epoch > kMaxSchedulerEpoch)
        fail(source, ": invalid ", name, " last_epoch ", rec.last_epoch, " in the file");
    const auto state = live.state();
    if (rec.state.size() != state.size())
        fail(source, ": holds ", rec.state.size(), " ", name, " state values, expected ", state.size());
    StagedScheduler staged;
    for (std::size_t i = 0; i < state.size(); ++i) {
        if (rec.state[i].first != state[i].first)
            fail(source, ": ", name, " state value ", i, " is '", rec.state[i].first, "' in the file, expected '",
                 state[i].first, "'");
        staged.values.push_back(rec.state[i].second);
    }
    live.check_state(staged.values, source);
    staged.last_epoch = static_cast<long>(rec.last_epoch);
    return staged;
}

template <class T>
void commit_scheduler(LrScheduler<T>& s, const StagedScheduler& staged) {
    s.apply_state(staged.last_epoch, staged.values);
}

}  // namespace ann::io
