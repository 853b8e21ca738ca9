#pragma once
// Checkpoints: everything needed to resume training where it stopped.
//   save_checkpoint(path, model, "cnn_3", optimizer, rng, {{"epoch", 3}, {"step", 1200}});
//   nlohmann::json loop = load_checkpoint(path, model, "cnn_3", optimizer, rng);
// A checkpoint holds the model's parameters, the optimizer's state (SGD or Adam: kind,
// hyperparameters, learning rate, step count, buffers), the Rng's state, and the training
// loop's own state as JSON text (epoch, step, curves so far: whatever the loop needs).
// It is written atomically (io/atomic_file.hpp): an interrupted save leaves the previous
// checkpoint intact. Loading checks everything first and then applies it all, so a failed
// load changes neither model, optimizer nor rng. Layout: docs/file-format.md.
//
// Checkpoint payload: model section | optimizer section | string rng state | string loop state
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ann/core/rng.hpp"
#include "ann/io/json_file.hpp"
#include "ann/io/model_file.hpp"
#include "ann/io/optimizer_state.hpp"

namespace ann::io {

inline constexpr std::uint64_t kMaxRngStateLength = 1 << 20;

struct CheckpointRecord {
    ModelRecord model;
    OptimizerRecord optimizer;
    std::string rng_state;
    std::string loop_state;  // JSON text
};

// Parses a whole checkpoint (header checks included) without needing a model.
inline CheckpointRecord parse_checkpoint_file(std::string_view file, const std::string& source) {
    ByteReader r(unframe_file(file, kCheckpointMagic, source), source);
    CheckpointRecord rec;
    rec.model = read_model_section(r);
    rec.optimizer = read_optimizer_section(r);
    rec.rng_state = r.string("rng state", kMaxRngStateLength);
    rec.loop_state = r.string("loop state");
    if (r.remaining() != 0) r.fail_at(r.offset(), r.remaining(), " unexpected bytes after the loop state");
    return rec;
}

template <class T, class Opt>
std::string encode_checkpoint(Layer<T>& model, const std::string& architecture, Opt& optimizer, const Rng& rng,
                              const nlohmann::json& loop_state) {
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
    return frame_file(kCheckpointMagic, w.data());
}

// Applies a checkpoint's content to model, optimizer and rng; returns the loop state.
template <class T, class Opt>
nlohmann::json decode_checkpoint(std::string_view file, const std::string& source, Layer<T>& model,
                                 const std::string& architecture, Opt& optimizer, Rng& rng) {
    const CheckpointRecord rec = parse_checkpoint_file(file, source);
    const auto values = stage_model(rec.model, model, architecture, source);
    auto opt_state = stage_optimizer(rec.optimizer, OptimizerCodec<Opt>::layout(optimizer), source);
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
    rng = new_rng;
    return loop;
}

template <class T, class Opt>
void save_checkpoint(const std::string& path, Layer<T>& model, const std::string& architecture, Opt& optimizer,
                     const Rng& rng, const nlohmann::json& loop_state) {
    write_file_atomic(path, encode_checkpoint(model, architecture, optimizer, rng, loop_state));
}

template <class T, class Opt>
nlohmann::json load_checkpoint(const std::string& path, Layer<T>& model, const std::string& architecture,
                               Opt& optimizer, Rng& rng) {
    return decode_checkpoint(read_file(path), path, model, architecture, optimizer, rng);
}

}  // namespace ann::io
