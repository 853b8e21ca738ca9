// Every cuDNN algorithm for every convolution of the five homework architectures: forward,
// backward data and backward filter, fp32 (no TF32), timed with CUDA events. Also records what
// cudnnFind and the heuristics pick. Writes JSON lines.
#include <algorithm>
#include <sstream>
#include <iostream>

#include "ann/io/atomic_file.hpp"
#include "common.cuh"

namespace cu = ann::cuda;

int main(int argc, char** argv) try {
    const char* usage =
        "usage: bench_cuda_conv OUT.jsonl [BATCH=50] [REPS=50]\n"
        "Times each cuDNN algorithm (fwd, bwd-data, bwd-filter) per homework conv shape.\n";
    if (bench::want_help(argc, argv, usage)) return 0;
    if (argc < 2) {
        std::cerr << usage;
        return 2;
    }
    // Rewritten whole (io::write_file_atomic) after each record: complete lines or nothing.
    const std::string out_path = argv[1];
    std::ostringstream out;
    ann::io::write_file_atomic(out_path, std::string());  // an unwritable path fails now
    const std::size_t batch = argc > 2 ? std::stoul(argv[2]) : 50;
    const int reps = argc > 3 ? std::stoi(argv[3]) : 50;
    cu::Context& ctx = cu::Context::get();
    cudnnHandle_t h = ctx.cudnn();
    std::vector<std::string> seen;
    for (const auto& c : bench::homework_convs(batch)) {
        const ann::Shape& x = c.x;
        const int OH = int((x[2] + 2 * c.p - c.k) / c.s + 1), OW = int((x[3] + 2 * c.p - c.k) / c.s + 1);
        const std::string key = std::to_string(x[1]) + "x" + std::to_string(x[2]) + "->" + std::to_string(c.o) + "k" + std::to_string(c.k);
        const bool dup = std::find(seen.begin(), seen.end(), key) != seen.end();
        seen.push_back(key);
        cu::TensorDesc xd{int(x[0]), int(x[1]), int(x[2]), int(x[3])}, yd{int(x[0]), c.o, OH, OW};
        cu::FilterDesc wd;
        wd.set(c.o, int(x[1]), c.k, c.k);
        cu::ConvDesc cd;
        cd.set(c.p, c.s, false);
        cu::DeviceTensor X({x[0], x[1], x[2], x[3]}), Y({x[0], std::size_t(c.o), std::size_t(OH), std::size_t(OW)}),
            W({std::size_t(c.o), x[1], std::size_t(c.k), std::size_t(c.k)});
        X.zero(ctx), Y.zero(ctx), W.zero(ctx);
        const float one = 1, zero = 0;
        // Some algorithms (FFT) ask for very large workspaces: skip those over 4 GiB, and record
        // an allocation failure instead of ending the benchmark.
        auto workspace = [&](std::size_t ws) -> void* {
            if (ws > (std::size_t(4) << 30)) return nullptr;
            try {
                return ctx.workspace(ws);
            } catch (const ann::Error&) {
                return nullptr;
            }
        };
        auto emit = [&](const char* dir, int algo, const char* status, double ms, std::size_t ws) {
            out << "{\"arch\":\"" << c.arch << "\",\"layer\":" << c.layer << ",\"shape\":\"" << key << "\",\"duplicate\":" << (dup ? "true" : "false")
                << ",\"batch\":" << batch << ",\"dir\":\"" << dir << "\",\"algo\":" << algo << ",\"status\":\"" << status
                << "\",\"ms\":" << ms << ",\"workspace\":" << ws << "}\n";
        };
        for (int a = 0; a < CUDNN_CONVOLUTION_FWD_ALGO_COUNT; ++a) {
            std::size_t ws = 0;
            auto algo = cudnnConvolutionFwdAlgo_t(a);
            if (cudnnGetConvolutionForwardWorkspaceSize(h, xd, wd, cd, yd, algo, &ws) != CUDNN_STATUS_SUCCESS) { emit("fwd", a, "unsupported", -1, 0); continue; }
            void* p = workspace(ws);
            if (ws > 0 && !p) { emit("fwd", a, "workspace too large", -1, ws); continue; }
            if (cudnnConvolutionForward(h, &one, xd, X.data(), wd, W.data(), cd, algo, p, ws, &zero, yd, Y.data()) != CUDNN_STATUS_SUCCESS) { emit("fwd", a, "failed", -1, ws); continue; }
            emit("fwd", a, "ok", bench::time_ms(ctx.stream(), 3, reps, [&] { ANN_CUDNN_CHECK(cudnnConvolutionForward(h, &one, xd, X.data(), wd, W.data(), cd, algo, p, ws, &zero, yd, Y.data())); }), ws);
        }
        for (int a = 0; a < CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT; ++a) {
            std::size_t ws = 0;
            auto algo = cudnnConvolutionBwdDataAlgo_t(a);
            if (cudnnGetConvolutionBackwardDataWorkspaceSize(h, wd, yd, cd, xd, algo, &ws) != CUDNN_STATUS_SUCCESS) { emit("bwd_data", a, "unsupported", -1, 0); continue; }
            void* p = workspace(ws);
            if (ws > 0 && !p) { emit("bwd_data", a, "workspace too large", -1, ws); continue; }
            if (cudnnConvolutionBackwardData(h, &one, wd, W.data(), yd, Y.data(), cd, algo, p, ws, &zero, xd, X.data()) != CUDNN_STATUS_SUCCESS) { emit("bwd_data", a, "failed", -1, ws); continue; }
            emit("bwd_data", a, "ok", bench::time_ms(ctx.stream(), 3, reps, [&] { ANN_CUDNN_CHECK(cudnnConvolutionBackwardData(h, &one, wd, W.data(), yd, Y.data(), cd, algo, p, ws, &zero, xd, X.data())); }), ws);
        }
        for (int a = 0; a < CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT; ++a) {
            std::size_t ws = 0;
            auto algo = cudnnConvolutionBwdFilterAlgo_t(a);
            if (cudnnGetConvolutionBackwardFilterWorkspaceSize(h, xd, yd, cd, wd, algo, &ws) != CUDNN_STATUS_SUCCESS) { emit("bwd_filter", a, "unsupported", -1, 0); continue; }
            void* p = workspace(ws);
            if (ws > 0 && !p) { emit("bwd_filter", a, "workspace too large", -1, ws); continue; }
            if (cudnnConvolutionBackwardFilter(h, &one, xd, X.data(), yd, Y.data(), cd, algo, p, ws, &one, wd, W.data()) != CUDNN_STATUS_SUCCESS) { emit("bwd_filter", a, "failed", -1, ws); continue; }
            emit("bwd_filter", a, "ok", bench::time_ms(ctx.stream(), 3, reps, [&] { ANN_CUDNN_CHECK(cudnnConvolutionBackwardFilter(h, &one, xd, X.data(), yd, Y.data(), cd, algo, p, ws, &one, wd, W.data())); }), ws);
        }
        for (auto choice : {cu::ConvAlgoChoice::find, cu::ConvAlgoChoice::heuristic}) {
            ctx.set_conv_algo_choice(choice);
            const auto& pick = cu::conv_algos(ctx, cu::ConvKey::of(x, c.o, c.k, c.s, c.p), xd, wd, cd, yd);
            out << "{\"arch\":\"" << c.arch << "\",\"layer\":" << c.layer << ",\"shape\":\"" << key << "\",\"pick\":\""
                << (choice == cu::ConvAlgoChoice::find ? "find" : "heuristic") << "\",\"fwd\":" << int(pick.fwd)
                << ",\"bwd_data\":" << int(pick.bwd_data) << ",\"bwd_filter\":" << int(pick.bwd_filter) << "}\n";
        }
        ctx.set_conv_algo_choice(cu::ConvAlgoChoice::find);
        ann::io::write_file_atomic(out_path, out.str());
        std::cout << c.arch << " layer " << c.layer << " " << key << " done\n";
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "bench_cuda_conv: " << e.what() << '\n';
    return 1;
}
