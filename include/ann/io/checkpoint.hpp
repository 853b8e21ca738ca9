#pragma once
// Checkpoints: everything needed to resume training where it stopped.
//   save_checkpoint(path, model, "cnn_3", optimizer, rng, {{"epoch", 3}, {"step", 1200}});
//   nlohmann::json loop = load_checkpoint(path, model, "cnn_3", optimizer, rng);
// A checkpoint holds the model's parameters, the optimizer's state (SGD, Adam or AdamW: kind,
// hyperparameters, learning rate, step count, buffers), the Rng's state, and the training
// loop's own state as JSON text (epoch, step, curves so far: whatever the loop needs).
// It is written atomically (io/atomic_file.hpp): an interrupted save leaves the previous
// checkpoint intact. Loading checks everything first and then applies it all, so a failed
// load changes neither model, optimizer nor rng. Layout: docs/file-format.md.
//
// An optional learning-rate scheduler (optim/lr_scheduler.hpp) adds its section at the end; such a
// file is format version 2, one without stays version 1 (byte for byte what older builds wrote).
//
// Checkpoint payload: model section | optimizer section | string rng state | string loop state
//                     [| scheduler section, version 2 only]
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ann/core/rng.hpp"
#include "ann/io/json_file.hpp"
#include "ann/io/model_file.hpp"
#include "ann/io/optimizer_state.hpp"
#include "ann/io/scheduler_state.hpp"

namespace ann::io {

inline constexpr std::uint64_t kMaxRngStateLength = 1 << 20;

struct CheckpointRecord {
    ModelRecord model;
    OptimizerRecord optimizer;
    std::string rng_state;
    std::string loop_state;  // JSON text
    std::optional<SchedulerRecord> scheduler;
};

// Parses a whole checkpoint (header checks included) without needing a model.
inline CheckpointRecord parse_checkpoint_file(std::string_view file, const std::string& source) {
    std::uint32_t version = 0;
    ByteReader r(unframe_file(file, kCheckpointMagic, source, kCheckpointFormatVersion, &version), source);
    CheckpointRecord rec;
    rec.model = read_model_section(r);
    rec.optimizer = read_optimizer_section(r);
    rec.rng_state = r.string("rng state", kMaxRngStateLength);
    rec.loop_state = r.string("loop state");
    if (version >= 2) rec.scheduler = read_scheduler_section(r);
    if (r.remaining() != 0)
        r.fail_at(r.offset(), r.remaining(), " unexpected bytes after the ",
                  version >= 2 ? "scheduler section" : "loop state");
    return rec;
}

template <class T, class Opt>
std::string encode_checkpoint(Layer<T>& model, const std::string& architecture, Opt& optimizer, const Rng& rng,
                              const nlohmann::json& loop_state, const LrScheduler<T>* scheduler = nullptr) {
    ByteWriter w;
    write_model_section(w, model, architecture);
    write_optimizer_section(w, OptimizerCodec<Opt>::layout(optimizer));
    w.string(rng.state());
    std::string loop_text;
    try {
        loop_text = loop_state.dump();
    } catch (const nlohmann::json::exception& e) {  // e.g. a string that is not UTF-8
        fail("checkpoint for '", architecture, "': the loop state cannot be written as JSON: ", e.what());
    }
    w.string(loop_text);
    if (!scheduler) return frame_file(kCheckpointMagic, w.data());
    write_scheduler_section(w, *scheduler);
    return frame_file(kCheckpointMagic, w.data(), kCheckpointFormatVersion);
}

// Applies a checkpoint's content to model, optimizer, rng and scheduler; returns the loop state.
// A checkpoint with scheduler state needs a scheduler of its kind, one without needs none.
template <class T, class Opt>
nlohmann::json decode_checkpoint(std::string_view file, const std::string& source, Layer<T>& model,
                                 const std::string& architecture, Opt& optimizer, Rng& rng,
                                 LrScheduler<T>* scheduler = nullptr) {
    const CheckpointRecord rec = parse_checkpoint_file(file, source);
    const auto values = stage_model(rec.model, model, architecture, source);
    auto opt_state = stage_optimizer(rec.optimizer, OptimizerCodec<Opt>::layout(optimizer), source);
    StagedScheduler sched_state;
    if (rec.scheduler && !scheduler)
        fail(source, ": holds learning-rate scheduler state ('", rec.scheduler->kind,
             "'), this run has no scheduler");
    if (scheduler && !rec.scheduler)
        fail(source, ": holds no learning-rate scheduler state, this run has a ", scheduler->name());
    if (scheduler) sched_state = stage_scheduler(*rec.scheduler, *scheduler, source);
    // Rng::set_state does not report malformed text; a state that prints back identically
    // was parsed completely.
    Rng new_rng;
    new_rng.set_state(rec.rng_state);
    if (new_rng.state() != rec.rng_state) fail(source, ": the rng state in the file is malformed");
    {
        // An all-zero Mersenne Twister state is well-formed text but yields only zeros, which
        // would hang Rng::normal(); no saved generator is ever in it.
        Rng probe = new_rng;
        bool any = false;
        for (int i = 0; i < 8; ++i) any |= probe.next_u64() != 0;
        if (!any) fail(source, ": the rng state in the file is degenerate (all zero)");
    }
    const nlohmann::json loop = parse_json(rec.loop_state, source + " (its loop state)");
    // Everything checked: apply. None of these steps can fail.
    commit_model(model, values);
    OptimizerCodec<Opt>::commit(optimizer, opt_state);
    if (scheduler) commit_scheduler(*scheduler, sched_state);
    rng = new_rng;
    return loop;
}

template <class T, class Opt>
void save_checkpoint(const std::string& path, Layer<T>& model, const std::string& architecture, Opt& optimizer,
                     const Rng& rng, const nlohmann::json& loop_state, const LrScheduler<T>* scheduler = nullptr) {
    write_file_atomic(path, encode_checkpoint(model, architecture, optimizer, rng, loop_state, scheduler));
}

template <class T, class Opt>
nlohmann::json load_checkpoint(const std::string& path, Layer<T>& model, const std::string& architecture,
                               Opt& optimizer, Rng& rng, LrScheduler<T>* scheduler = nullptr) {
    return decode_checkpoint(read_file(path), path, model, architecture, optimizer, rng, scheduler);
}

}  // namespace ann::io
