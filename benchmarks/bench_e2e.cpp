// End-to-end timings of the five homework models, the ann side of scripts/bench.sh:
//   training step = zero_grad + forward + cross-entropy + backward + Adam step, batch --batch;
//   evaluation    = forward only in eval mode, batches of --eval-batch, reported as images/s.
// Prints one JSON object with the same keys as benchmarks/torch_e2e.py, so the two can be
// put side by side (scripts/bench_table.py), plus the yardsticks measured in this run (FMA and
// sgemm peaks, machine_peak.hpp) and each model's useful FLOPs (model_flops.hpp), from which the
// table prints both sides as % of the FMA peak. Inputs are uniform noise: speed does not
// depend on the pixel values.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "ann/ann.hpp"
#include "machine_peak.hpp"
#include "model_flops.hpp"

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}
std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
    return out;
}
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ann end-to-end benchmark: training-step time and evaluation throughput (JSON on stdout)"};
    int threads = 2, batch = 50, eval_batch = 100, steps = 40, eval_images = 5000;
    std::string archs = "mlp_1,mlp_2,cnn_3,cnn_4,cnn_5";
    app.add_option("--threads", threads, "threads (ann::cpu::set_num_threads)")->check(CLI::Range(1, 256));
    app.add_option("--batch", batch, "training batch size")->check(CLI::Range(1, 100000));
    app.add_option("--eval-batch", eval_batch, "evaluation batch size")->check(CLI::Range(1, 100000));
    app.add_option("--steps", steps, "timed training steps per architecture (median reported)")
        ->check(CLI::Range(1, 100000));
    app.add_option("--eval-images", eval_images, "images per evaluation timing")->check(CLI::Range(1, 10000000));
    app.add_option("--archs", archs, "comma-separated architectures");
    CLI11_PARSE(app, argc, argv);

    try {
        ann::cpu::set_num_threads(threads);
        std::ostringstream train_json, eval_json, flops_json;
        const char* sep = "";
        for (const auto& arch : split(archs)) {
            ann::Rng rng(0);
            auto model = ann::models::homework<float>(arch, ann::models::Activation::relu, rng);
            const bench::ModelFlops flops = bench::count_flops(model, ann::models::cifar_input_shape(1));
            ann::Adam<float> opt(model.parameters(), 1e-3);
            ann::CrossEntropyLoss<float> loss;
            // An Array, as the training loop passes: a Tensor would be copied into one every call.
            ann::Array<float> x(ann::models::cifar_input_shape(batch));
            for (auto& v : x) v = static_cast<float>(rng.uniform());
            std::vector<long> t(batch);
            for (auto& v : t) v = static_cast<long>(rng.below(10));

            auto step = [&] {
                model.zero_grad();
                loss.forward(model.forward(x), t);
                model.backward(loss.backward());
                opt.step();
            };
            model.train();
            for (int i = 0; i < 5; ++i) step();
            std::vector<double> times;
            for (int i = 0; i < steps; ++i) {
                const auto t0 = Clock::now();
                step();
                times.push_back(seconds_since(t0));
            }
            std::sort(times.begin(), times.end());
            const double train_ms = 1e3 * times[times.size() / 2];

            ann::Array<float> xe(ann::models::cifar_input_shape(eval_batch));
            for (auto& v : xe) v = static_cast<float>(rng.uniform());
            model.eval();
            model.forward(xe);
            const int reps = std::max(1, eval_images / eval_batch);
            double best = 1e300;
            for (int r = 0; r < 3; ++r) {
                const auto t0 = Clock::now();
                for (int i = 0; i < reps; ++i) model.forward(xe);
                best = std::min(best, seconds_since(t0));
            }
            const double ips = reps * eval_batch / best;
            train_json << sep << '"' << arch << "\": " << train_ms;
            eval_json << sep << '"' << arch << "\": " << ips;
            flops_json << sep << '"' << arch << "\": {\"train_step\": " << flops.train_step * batch
                       << ", \"eval_image\": " << flops.forward << '}';
            sep = ", ";
        }
        // The yardsticks after the timings: OpenBLAS's own threads, woken for the sgemm, keep
        // spinning for a while and would slow the first model timed after them.
        const bench::FmaPeak fma = bench::measure_fma_peak(threads);
        const double sgemm = bench::measure_sgemm_peak(threads);
        std::cout << "{\"threads\": " << threads << ", \"batch\": " << batch << ", \"fma_peak_gflops\": " << fma.gflops
                  << ", \"fma_peak_isa\": \"" << fma.isa << "\", \"sgemm_peak_gflops\": " << sgemm
                  << ", \"openblas_core\": \"" << bench::openblas_core() << "\", \"flops\": {" << flops_json.str()
                  << "}, \"train_ms\": {" << train_json.str() << "}, \"eval_ips\": {" << eval_json.str() << "}}\n";
    } catch (const std::exception& e) {
        std::cerr << "bench_e2e: " << e.what() << '\n';
        return 2;
    }
    return 0;
}
