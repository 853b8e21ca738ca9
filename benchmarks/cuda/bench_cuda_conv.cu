// The CUDA backend's convolution primitives on every convolution of the five homework
// architectures: conv2d_forward, conv2d_backward_data and conv2d_backward_weights (with the
// bias gradient), batch 50 by default, float32, timed with CUDA events on the backend's stream
// (Context::get().stream()) after a warm-up that lets the backend choose its algorithms.
// One JSON object per convolution per line; benchmarks/cuda/summarize_conv.py makes a table.
// The backend's mode (deterministic by default; --nondeterministic sets
// ANN_CUDA_NONDETERMINISTIC=1 before it starts) is recorded in every line.
#include <cstdio>
#include <iostream>

#include "common.cuh"

namespace {

const char* kUsage =
    "usage: bench_cuda_conv --out OUT.jsonl [--batch 50] [--reps 50] [--warmup 5] [--nondeterministic]\n"
    "Times the CUDA backend's conv2d_forward / conv2d_backward_data / conv2d_backward_weights on every\n"
    "convolution of mlp_1, mlp_2, cnn_3, cnn_4, cnn_5 (CUDA events on the backend's stream), and writes\n"
    "one JSON line per convolution: ms per call, host ms per call, GFLOP/s (2*N*O*OH*OW*C*k*k per call).\n"
    "  --nondeterministic  let the backend use nondeterministic cuDNN engines (ANN_CUDA_NONDETERMINISTIC=1)\n"
    "Exit codes: 0 done, 1 a failure (one line on stderr), 2 a bad command line, 77 no usable CUDA device.\n";

ann::Array<float> random_on_gpu(const ann::Shape& s, ann::Rng& rng, float scale) {
    ann::Tensor<float> t = ann::Tensor<float>::from_shape(s);
    for (auto& v : t) v = scale * static_cast<float>(rng.normal());
    return ann::Array<float>(std::move(t)).to(ann::Device::cuda);
}

nlohmann::ordered_json timing(double ms, double wall_ms, double flops) {
    return {{"ms", ms}, {"wall_ms", wall_ms}, {"gflops", ms > 0 ? flops / (ms * 1e6) : 0.0}};
}

}  // namespace

int main(int argc, char** argv) try {
    const bench::Args args(argc, argv, {"--out", "--batch", "--reps", "--warmup"}, {"--nondeterministic"});
    if (args.help()) {
        std::fputs(kUsage, stdout);
        return 0;
    }
    if (!args.has("--out")) throw bench::UsageError("--out OUT.jsonl is required (see --help)");
    const int batch = int(args.whole("--batch", 50, 1, 4096));
    const int reps = int(args.whole("--reps", 50, 1, 100000));
    const int warmup = int(args.whole("--warmup", 5, 1, 1000));
    bench::JsonLines out(args.str("--out", ""));
    if (!bench::start_cuda(args.has("--nondeterministic"))) return 77;
    const std::string device = ann::cuda::describe();
    const char* mode = bench::cuda_deterministic() ? "deterministic" : "nondeterministic";
    std::printf("%s, %s\n", device.c_str(), mode);

    ann::Backend<float>& gpu = ann::backend<float>(ann::Device::cuda);
    ann::Rng rng(11);
    std::vector<std::string> seen;
    for (const auto& c : bench::homework_convs(std::size_t(batch))) {
        const ann::ConvGeometry g{int(c.x[1]), int(c.x[2]), int(c.x[3]), c.k, c.k, c.s, c.p};
        const std::size_t N = c.x[0], O = std::size_t(c.o), OH = std::size_t(g.OH()), OW = std::size_t(g.OW());
        const std::string shape = std::to_string(g.C) + "x" + std::to_string(g.H) + "x" + std::to_string(g.W) + "->" +
                                  std::to_string(c.o) + " k" + std::to_string(c.k);
        const bool duplicate = std::find(seen.begin(), seen.end(), shape) != seen.end();
        seen.push_back(shape);

        ann::Array<float> x = random_on_gpu(c.x, rng, 1.f);
        ann::Array<float> w = random_on_gpu({O, c.x[1], std::size_t(c.k), std::size_t(c.k)}, rng, 0.1f);
        ann::Array<float> b = random_on_gpu({O}, rng, 0.1f);
        ann::Array<float> dy = random_on_gpu({N, O, OH, OW}, rng, 1.f);
        ann::Array<float> y({N, O, OH, OW}, ann::Device::cuda), dx(c.x, ann::Device::cuda);
        ann::Array<float> dw(w.shape(), ann::Device::cuda), db(b.shape(), ann::Device::cuda);
        dw.zero();
        db.zero();
        auto state = gpu.make_conv_state();

        const double flops = 2.0 * double(N) * double(O) * double(OH * OW) * double(g.rows());
        double wf = 0, wd = 0, ww = 0;
        const double fwd = bench::time_ms(warmup, reps, [&] {
            gpu.conv2d_forward(x.data(), w.data(), b.data(), y.data(), int(N), c.o, g, *state);
        }, &wf);
        const double bwd_data = bench::time_ms(warmup, reps, [&] {
            gpu.conv2d_backward_data(dy.data(), w.data(), dx.data(), int(N), c.o, g, *state);
        }, &wd);
        // Accumulates into dw and db on every call (as in training between two zero_grad calls).
        const double bwd_weights = bench::time_ms(warmup, reps, [&] {
            gpu.conv2d_backward_weights(x.data(), dy.data(), dw.data(), db.data(), int(N), c.o, g, *state);
        }, &ww);
        ann::memory(ann::Device::cuda).synchronize();

        out.add({{"bench", "conv"},
                 {"device", device},
                 {"mode", mode},
                 {"arch", c.arch},
                 {"layer", c.layer},
                 {"shape", shape},
                 {"duplicate", duplicate},
                 {"N", N},
                 {"C", g.C},
                 {"H", g.H},
                 {"W", g.W},
                 {"O", c.o},
                 {"k", c.k},
                 {"stride", c.s},
                 {"pad", c.p},
                 {"OH", OH},
                 {"OW", OW},
                 {"reps", reps},
                 {"gflop_per_call", flops / 1e9},
                 {"fwd", timing(fwd, wf, flops)},
                 {"bwd_data", timing(bwd_data, wd, flops)},
                 {"bwd_weights", timing(bwd_weights, ww, flops)}});
        std::printf("%-5s layer %d  %-16s fwd %.4f ms  bwd_data %.4f ms  bwd_weights %.4f ms\n", c.arch.c_str(),
                    c.layer, shape.c_str(), fwd, bwd_data, bwd_weights);
        std::fflush(stdout);
    }
    return 0;
} catch (const bench::UsageError& e) {
    std::cerr << "bench_cuda_conv: " << e.what() << '\n';
    return 2;
} catch (const std::exception& e) {
    std::cerr << "bench_cuda_conv: " << e.what() << '\n';
    return 1;
}
