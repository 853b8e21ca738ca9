// Training and evaluation throughput of the five homework architectures, the GPU and the CPU
// side by side in one run, through the library's own loop: ann::train::train_epochs (Adam,
// batch 50, loss recorded every 10 steps, batches filled on the host and copied to the model's
// device: what `homework --device cuda|cpu` runs) and Evaluator::accuracy.
// Data: a synthetic CIFAR-shaped set (random pixels and labels; speed does not depend on them).
//
// Per architecture and device:
//   warm-up   a few steps on the same model (the GPU backend chooses its conv algorithms, buffers
//             are sized), not timed
//   steps     timed: --epochs passes over --images images on the GPU, --cpu-steps steps on the CPU
//   val       optional (--val N > 0): the same loop with val_acc on N images recorded every 10
//             steps (the homework records that way), evaluator batch --val-batch
//   eval      Evaluator::accuracy over --eval images (--cpu-eval on the CPU) in batches of
//             --eval-batch, after one warm-up pass
// One JSON object per architecture and device per line (ms per step, images/s); bench_torch.py
// runs the same step in PyTorch and writes the ratios.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <numeric>
#include <thread>

#include "ann/optim/adam.hpp"
#include "ann/train/run.hpp"
#include "common.cuh"

namespace {

const char* kUsage =
    "usage: bench_cuda_train --out OUT.jsonl [options]\n"
    "Times train_epochs (Adam, batch 50, loss recorded every 10 steps) and Evaluator::accuracy for the\n"
    "homework architectures on the GPU and the CPU side by side, on synthetic CIFAR-shaped data.\n"
    "  --archs LIST       mlp_1,mlp_2,cnn_3,cnn_4,cnn_5 (default: all)\n"
    "  --devices LIST     cuda,cpu (default: both; cpu alone runs without a GPU)\n"
    "  --images N         training images of the GPU's timed epochs (default 5000: 100 steps per epoch)\n"
    "  --epochs N         timed epochs on the GPU (default 2)\n"
    "  --cpu-steps N      timed steps on the CPU (default 60)\n"
    "  --warmup-steps N   untimed steps first on the GPU (default 10; the CPU takes at most 2)\n"
    "  --val N            also time the loop with val_acc on N images every 10 steps (default 0: off)\n"
    "  --val-batch N      evaluator batch for --val (default 100, the homework's)\n"
    "  --eval N           images of the evaluation benchmark on the GPU (default 10000)\n"
    "  --cpu-eval N       the same on the CPU (default 2000)\n"
    "  --eval-batch N     evaluation batch (default 1000)\n"
    "  --threads N        CPU threads (default: all cores)\n"
    "  --nondeterministic let the GPU backend use nondeterministic cuDNN engines\n"
    "Exit codes: 0 done, 1 a failure (one line on stderr), 2 a bad command line, 77 no usable CUDA device.\n";

constexpr std::size_t kBatch = 50, kEvery = 10;

ann::data::Indices first_n(std::size_t n) {
    ann::data::Indices idx(n);
    std::iota(idx.begin(), idx.end(), 0u);
    return idx;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Settings {
    std::size_t images, epochs, cpu_steps, warmup_steps, val, val_batch, eval, cpu_eval, eval_batch;
    int threads;
};

// Trains `run` for `steps` more steps (whole epochs over `steps * kBatch` images), returns seconds.
double timed_steps(ann::train::Run<float>& run, const ann::data::CifarSet& set, std::size_t steps,
                   std::size_t epochs, const ann::train::RecordOptions& rec, ann::train::Evaluator<float>* ev,
                   const ann::data::Indices& val) {
    ann::train::TrainData d{&set, first_n(steps * kBatch), {}, val};
    ann::memory(run.model.device()).synchronize();
    const auto t0 = std::chrono::steady_clock::now();
    ann::train::train_epochs(run, run.epoch + epochs, d, rec, ev, nullptr);
    ann::memory(run.model.device()).synchronize();
    return seconds_since(t0);
}

nlohmann::ordered_json bench_one(const std::string& arch, ann::Device dev, const ann::data::CifarSet& set,
                         const Settings& s, const std::string& device_name, const std::string& mode) {
    const bool gpu = dev == ann::Device::cuda;
    ann::train::Run<float> run;
    run.label = arch + "@" + ann::to_string(dev);
    ann::Rng init(1);
    run.model = ann::models::homework<float>(arch, ann::models::Activation::relu, init);
    run.model.to(dev);
    run.optimizer = std::make_unique<ann::Adam<float>>(run.model.parameters());
    run.rng = ann::Rng(2);
    const std::size_t params = run.model.num_parameters();

    ann::train::RecordOptions rec;
    rec.batch = kBatch;
    rec.every = kEvery;

    // Warm-up: algorithm choice, buffers, the first allocations; not timed.
    // The CPU needs only its buffers sized: two steps.
    const std::size_t warmup_steps = gpu ? s.warmup_steps : std::min<std::size_t>(s.warmup_steps, 2);
    const auto w0 = std::chrono::steady_clock::now();
    timed_steps(run, set, warmup_steps, 1, rec, nullptr, {});
    const double warmup_s = seconds_since(w0);

    const std::size_t steps_per_epoch = gpu ? s.images / kBatch : s.cpu_steps;
    const std::size_t epochs = gpu ? s.epochs : 1;
    const std::size_t steps = steps_per_epoch * epochs;
    const double train_s = timed_steps(run, set, steps_per_epoch, epochs, rec, nullptr, {});
    const double step_ms = 1000.0 * train_s / double(steps);

    nlohmann::ordered_json j{{"bench", "train"},
                     {"device", ann::to_string(dev)},
                     {"device_name", device_name},
                     {"mode", gpu ? mode : "cpu"},
                     {"arch", arch},
                     {"params", params},
                     {"batch", kBatch},
                     {"record_every", kEvery},
                     {"warmup_steps", warmup_steps},
                     {"warmup_s", warmup_s},
                     {"steps", steps},
                     {"step_ms", step_ms},
                     {"images_per_s", double(kBatch) * double(steps) / train_s}};

    if (s.val > 0) {
        ann::train::Evaluator<float> ev(ann::models::homework<float>(arch), s.val_batch);
        rec.val_acc = true;
        const ann::data::Indices val = first_n(s.val);
        const std::size_t vsteps = gpu ? s.images / kBatch : s.cpu_steps;
        const double val_s = timed_steps(run, set, vsteps, 1, rec, &ev, val);
        rec.val_acc = false;
        j["val_images"] = s.val;
        j["val_batch"] = s.val_batch;
        j["val_steps"] = vsteps;
        j["step_ms_with_val"] = 1000.0 * val_s / double(vsteps);
    }
    const auto& loss = run.curve("loss");
    j["last_loss"] = loss.empty() ? 0.0 : loss.back();
    j["diverged"] = run.diverged;

    // Evaluation throughput (a second copy of the architecture, parameters copied in each call).
    const std::size_t n_eval = gpu ? s.eval : s.cpu_eval;
    if (n_eval > 0) {
        ann::train::Evaluator<float> ev(ann::models::homework<float>(arch), s.eval_batch);
        const ann::data::Indices idx = first_n(n_eval);
        ev.accuracy(run.model, set, first_n(std::min(n_eval, s.eval_batch)));  // warm-up
        const int reps = gpu ? 3 : 1;
        double acc = 0;
        const auto e0 = std::chrono::steady_clock::now();
        for (int i = 0; i < reps; ++i) acc = ev.accuracy(run.model, set, idx);
        const double eval_ms = 1000.0 * seconds_since(e0) / reps;
        j["eval_images"] = n_eval;
        j["eval_batch"] = s.eval_batch;
        j["eval_ms"] = eval_ms;
        j["eval_images_per_s"] = double(n_eval) / (eval_ms / 1000.0);
        j["eval_acc"] = acc;
    }
    return j;
}

}  // namespace

int main(int argc, char** argv) try {
    const bench::Args args(argc, argv,
                           {"--out", "--archs", "--devices", "--images", "--epochs", "--cpu-steps", "--warmup-steps",
                            "--val", "--val-batch", "--eval", "--cpu-eval", "--eval-batch", "--threads"},
                           {"--nondeterministic"});
    if (args.help()) {
        std::fputs(kUsage, stdout);
        return 0;
    }
    if (!args.has("--out")) throw bench::UsageError("--out OUT.jsonl is required (see --help)");
    const std::vector<std::string> all_archs(ann::models::homework_names().begin(),
                                             ann::models::homework_names().end());
    const auto archs = args.list("--archs", "mlp_1,mlp_2,cnn_3,cnn_4,cnn_5", all_archs);
    const auto devices = args.list("--devices", "cuda,cpu", {"cuda", "cpu"});
    Settings s{};
    s.images = std::size_t(args.whole("--images", 5000, long(kBatch), 1000000));
    s.epochs = std::size_t(args.whole("--epochs", 2, 1, 1000));
    s.cpu_steps = std::size_t(args.whole("--cpu-steps", 60, 1, 100000));
    s.warmup_steps = std::size_t(args.whole("--warmup-steps", 10, 1, 100000));
    s.val = std::size_t(args.whole("--val", 0, 0, 1000000));
    s.val_batch = std::size_t(args.whole("--val-batch", 100, 1, 100000));
    s.eval = std::size_t(args.whole("--eval", 10000, 0, 1000000));
    s.cpu_eval = std::size_t(args.whole("--cpu-eval", 2000, 0, 1000000));
    s.eval_batch = std::size_t(args.whole("--eval-batch", 1000, 1, 100000));
    const long cores = long(std::max(1u, std::thread::hardware_concurrency()));
    s.threads = int(args.whole("--threads", cores, 1, 1024));
    if (s.images % kBatch) throw bench::UsageError("--images must be a multiple of 50 (whole batches)");

    bench::JsonLines out(args.str("--out", ""));
    const bool want_gpu = std::find(devices.begin(), devices.end(), "cuda") != devices.end();
    std::string gpu_name, mode = "deterministic";
    if (want_gpu) {
        if (!bench::start_cuda(args.has("--nondeterministic"))) return 77;
        gpu_name = ann::cuda::describe();
        mode = bench::cuda_deterministic() ? "deterministic" : "nondeterministic";
        std::printf("%s, %s\n", gpu_name.c_str(), mode.c_str());
    }
    ann::cpu::set_num_threads(s.threads);
    const std::string cpu_name = "cpu, " + std::to_string(s.threads) + " threads";

    // Synthetic images: enough for every phase (they all index from 0).
    const std::size_t n = std::max({s.images, s.cpu_steps * kBatch, s.warmup_steps * kBatch, s.val, s.eval,
                                    s.cpu_eval, s.eval_batch});
    ann::data::CifarSet set;
    set.pixels.resize(n * ann::data::kCifarImageBytes);
    set.labels.resize(n);
    ann::Rng rng(7);
    for (auto& p : set.pixels) p = std::uint8_t(rng.below(256));
    for (auto& l : set.labels) l = std::uint8_t(rng.below(10));

    for (const auto& arch : archs) {
        double ms[2] = {0, 0};
        for (const auto& d : devices) {
            const ann::Device dev = ann::parse_device(d);
            nlohmann::ordered_json j = bench_one(arch, dev, set, s, dev == ann::Device::cuda ? gpu_name : cpu_name, mode);
            ms[dev == ann::Device::cuda ? 0 : 1] = j["step_ms"].get<double>();
            out.add(j);
            std::printf("%-5s %-4s %8.3f ms/step %10.0f images/s", arch.c_str(), d.c_str(), j["step_ms"].get<double>(),
                        j["images_per_s"].get<double>());
            if (j.contains("step_ms_with_val")) std::printf("   with val %8.3f ms/step", j["step_ms_with_val"].get<double>());
            if (j.contains("eval_ms"))
                std::printf("   eval %zu images %8.2f ms", j["eval_images"].get<std::size_t>(), j["eval_ms"].get<double>());
            std::printf("\n");
            std::fflush(stdout);
        }
        if (ms[0] > 0 && ms[1] > 0) std::printf("%-5s cpu/cuda step time: %.1fx\n", arch.c_str(), ms[1] / ms[0]);
    }
    return 0;
} catch (const bench::UsageError& e) {
    std::cerr << "bench_cuda_train: " << e.what() << '\n';
    return 2;
} catch (const std::exception& e) {
    std::cerr << "bench_cuda_train: " << e.what() << '\n';
    return 1;
}
