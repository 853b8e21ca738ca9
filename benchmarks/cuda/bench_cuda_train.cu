// Training-step and evaluation throughput of the five homework architectures on the GPU:
// batch-50 Adam steps through TrainStep (CUDA graph, then eager for comparison) on a synthetic
// uint8 data set kept on the GPU, and evaluation in batches of 2000. fp32, no TF32.
// Writes one JSON object per architecture per line; benchmarks/cuda/bench_torch.py runs the
// same in PyTorch and prints the ratios.
#include <chrono>
#include <sstream>
#include <iostream>

#include "ann/io/atomic_file.hpp"
#include "common.cuh"

namespace cu = ann::cuda;

int main(int argc, char** argv) try {
    const char* usage =
        "usage: bench_cuda_train OUT.jsonl [STEPS=300] [EVAL_SAMPLES=10000]\n"
        "Times TrainStep (graph and eager) and evaluate() for mlp_1, mlp_2, cnn_3, cnn_4, cnn_5.\n";
    if (bench::want_help(argc, argv, usage)) return 0;
    if (argc < 2) {
        std::cerr << usage;
        return 2;
    }
    // Rewritten whole (io::write_file_atomic) after each record: complete lines or nothing.
    const std::string out_path = argv[1];
    std::ostringstream out;
    ann::io::write_file_atomic(out_path, std::string());  // an unwritable path fails now
    const int steps = argc > 2 ? std::stoi(argv[2]) : 300;
    const std::size_t n_eval = argc > 3 ? std::stoul(argv[3]) : 10000;
    const std::size_t B = 50, n_train = B * std::size_t(steps + 10);
    cu::Context& ctx = cu::Context::get();
    cudaDeviceProp prop{};
    ANN_CUDA_CHECK(cudaGetDeviceProperties(&prop, ctx.device()));

    ann::Rng rng(7);
    const std::size_t n = std::max(n_train, n_eval);
    std::vector<std::uint8_t> img(n * 3072), lab(n);
    for (auto& v : img) v = std::uint8_t(rng.below(256));
    for (auto& v : lab) v = std::uint8_t(rng.below(10));
    cu::DeviceDataset data(img.data(), lab.data(), n, {3, 32, 32}, 10);
    cu::DeviceDataset eval_data(img.data(), lab.data(), n_eval, {3, 32, 32}, 10);
    std::vector<int> order(n_train);
    for (std::size_t i = 0; i < n_train; ++i) order[i] = int(i);
    rng.shuffle(order.begin(), order.end());

    for (const auto& arch : ann::models::homework_names()) {
        out << "{\"device\":\"" << prop.name << "\",\"arch\":\"" << arch << "\",\"batch\":" << B << ",\"steps\":" << steps;
        for (bool graph : {true, false}) {
            ann::Rng init(1);
            auto cpu = ann::models::homework<float>(arch, ann::models::Activation::relu, init);
            auto gpu = cu::to_device(cpu, ctx);
            cu::Adam opt(gpu.parameters(), {}, ctx);
            cu::CrossEntropyLoss ce(ctx);
            cu::TrainStep st(gpu, ce, opt, data, {B, graph});
            st.start_epoch(order);
            for (int i = 0; i < 10; ++i) st.step();  // warm-up: algorithms, buffers, graph capture
            ctx.synchronize();
            const auto t0 = std::chrono::steady_clock::now();
            for (int i = 0; i < steps; ++i) st.step();
            ctx.synchronize();
            const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / steps;
            const auto h = st.history();
            out << ",\"" << (graph ? "step_ms_graph" : "step_ms_eager") << "\":" << ms << ",\""
                << (graph ? "graph_status" : "eager_status") << "\":\"" << st.graph_status() << "\",\""
                << (graph ? "last_loss_graph" : "last_loss_eager") << "\":" << h.loss.back();
            if (graph) {
                cu::evaluate(gpu, eval_data, 2000);  // warm-up (eval shapes pick their algorithms)
                ctx.synchronize();
                const auto e0 = std::chrono::steady_clock::now();
                const int reps = 5;
                cu::EvalResult r{};
                for (int i = 0; i < reps; ++i) r = cu::evaluate(gpu, eval_data, 2000);
                const double ems = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - e0).count() / reps;
                out << ",\"eval_samples\":" << n_eval << ",\"eval_ms\":" << ems << ",\"eval_images_per_s\":" << n_eval / (ems / 1000)
                    << ",\"eval_loss\":" << r.loss;
            }
        }
        out << "}\n";
        ann::io::write_file_atomic(out_path, out.str());
        std::cout << arch << " done\n";
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "bench_cuda_train: " << e.what() << '\n';
    return 1;
}
