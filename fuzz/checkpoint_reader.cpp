// libFuzzer target for the model-file and checkpoint readers (scripts/fuzz.sh checkpoint_reader SECONDS).
// Every input is loaded into a small model (for checkpoints: with SGD, Adam, AdamW, and SGD with a
// ReduceLROnPlateau scheduler, the one with the most state to check). The
// properties checked, besides "no crash, hang, leak or sanitizer report":
//   - the only exception a reader throws is ann::Error;
//   - a failed load leaves model, optimizer and rng exactly as they were;
//   - a successful model load re-encodes to the very same bytes (the encoding is canonical),
//     and a successful checkpoint load re-encodes to bytes that load back to themselves;
//   - the loaded state is usable: an optimizer step and rng draws run (catching shapes that
//     passed the checks but do not match, and rng states that would hang).
// Mutations rarely keep the CRC valid, so each input is tried twice: as given (exercising the
// header checks) and with its length and checksum fields repaired (exercising the payload parser).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "ann/backend/cpu/backend.hpp"  // the CPU arithmetic, compiled into this program (backend/registry.hpp)
#include "ann/io/checkpoint.hpp"
#include "ann/io/model_file.hpp"
#include "ann/optim/adam.hpp"
#include "ann/optim/reduce_lr_on_plateau.hpp"
#include "ann/optim/sgd.hpp"
#include "fuzz_model.hpp"

using namespace ann;

namespace {

void require(bool ok) {
    if (!ok) std::abort();
}

std::string bits(Layer<float>& m) {
    std::string s;
    for (auto* p : m.parameters()) s.append(reinterpret_cast<const char*>(p->value.data()), p->size() * sizeof(float));
    return s;
}

void fuzz_model_file(std::string_view in) {
    auto m = fuzz::make_model(1);
    const std::string before = bits(m);
    try {
        io::decode_model(in, m, fuzz::kArchitecture, "input");
    } catch (const Error&) {
        require(bits(m) == before);
        return;
    }
    require(io::encode_model(m, fuzz::kArchitecture) == in);
}

using SchedulerPtr = std::unique_ptr<LrScheduler<float>>;

template <class Opt, class Make, class MakeScheduler>
void fuzz_checkpoint(std::string_view in, Make make_optimizer, MakeScheduler make_scheduler) {
    auto m = fuzz::make_model(1);
    Opt opt = make_optimizer(m);
    SchedulerPtr sched = make_scheduler(opt);
    Rng rng(7);
    const std::string before = bits(m), rng_before = rng.state(),
                      opt_before = io::encode_checkpoint(m, "x", opt, rng, {}, sched.get());
    nlohmann::json loop;
    try {
        loop = io::decode_checkpoint(in, "input", m, fuzz::kArchitecture, opt, rng, sched.get());
    } catch (const Error&) {
        require(bits(m) == before && rng.state() == rng_before);
        require(io::encode_checkpoint(m, "x", opt, rng, {}, sched.get()) == opt_before);
        return;
    }
    const std::string again = io::encode_checkpoint(m, fuzz::kArchitecture, opt, rng, loop, sched.get());
    auto m2 = fuzz::make_model(2);
    Opt opt2 = make_optimizer(m2);
    SchedulerPtr sched2 = make_scheduler(opt2);
    Rng rng2;
    io::decode_checkpoint(again, "re-encoded", m2, fuzz::kArchitecture, opt2, rng2, sched2.get());
    require(io::encode_checkpoint(m2, fuzz::kArchitecture, opt2, rng2, loop, sched2.get()) == again);
    for (auto* p : m.parameters()) p->grad.fill(0.25f);
    opt.step();
    if (sched) sched->step(0.5);
    for (int i = 0; i < 4; ++i) rng.normal();
}

// The seeds' optimizers and scheduler (fuzz/make_corpus.cpp), so that valid seeds load.
inline SGD<float> seed_sgd(Sequential<float>& m) { return SGD<float>(m.parameters(), 0.1, 0.9); }
inline SchedulerPtr no_scheduler(Optimizer<float>&) { return nullptr; }
inline SchedulerPtr seed_plateau(Optimizer<float>& opt) {
    ReduceLROnPlateauOptions o;
    o.patience = 2;
    o.cooldown = 1;
    return std::make_unique<ReduceLROnPlateau<float>>(opt, o);
}

void fuzz_once(std::string_view in) {
    if (in.substr(0, 8) == io::kModelMagic) {
        fuzz_model_file(in);
        return;
    }
    fuzz_checkpoint<SGD<float>>(in, seed_sgd, no_scheduler);
    fuzz_checkpoint<Adam<float>>(in, [](auto& m) { return Adam<float>(m.parameters()); }, no_scheduler);
    fuzz_checkpoint<AdamW<float>>(in, [](auto& m) { return AdamW<float>(m.parameters()); }, no_scheduler);
    fuzz_checkpoint<SGD<float>>(in, seed_sgd, seed_plateau);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    fuzz_once(in);
    if (size >= io::kHeaderSize) {
        std::string fixed(in);
        const std::string_view payload = std::string_view(fixed).substr(io::kHeaderSize);
        io::ByteWriter w;
        w.u32(io::crc32(payload));
        w.u64(payload.size());
        std::memcpy(fixed.data() + 12, w.data().data(), 12);
        if (fixed != in) fuzz_once(fixed);
    }
    return 0;
}
