#pragma once
// Shared by the CUDA benchmarks: CUDA-event timing and the homework's convolution shapes.
#include <cstdio>
#include <string>
#include <vector>

#include "ann/cuda.cuh"

namespace bench {

// Milliseconds per call of f (enqueued on `s`), over `reps` calls after `warmup` calls.
template <class F>
double time_ms(cudaStream_t s, int warmup, int reps, F&& f) {
    for (int i = 0; i < warmup; ++i) f();
    cudaEvent_t a, b;
    ANN_CUDA_CHECK(cudaEventCreate(&a));
    ANN_CUDA_CHECK(cudaEventCreate(&b));
    ANN_CUDA_CHECK(cudaEventRecord(a, s));
    for (int i = 0; i < reps; ++i) f();
    ANN_CUDA_CHECK(cudaEventRecord(b, s));
    ANN_CUDA_CHECK(cudaEventSynchronize(b));
    float ms = 0;
    ANN_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    ANN_CUDA_CHECK(cudaEventDestroy(a));
    ANN_CUDA_CHECK(cudaEventDestroy(b));
    return double(ms) / reps;
}

struct ConvShape {
    std::string arch;
    int layer;
    ann::Shape x;  // (N, C, H, W)
    int o, k, s, p;
};

// Every Conv2d of the five homework architectures with its input shape at batch size n.
inline std::vector<ConvShape> homework_convs(std::size_t n) {
    std::vector<ConvShape> out;
    for (const auto& arch : ann::models::homework_names()) {
        auto m = ann::models::homework<float>(arch);
        ann::Shape cur = ann::models::cifar_input_shape(n);
        for (std::size_t i = 0; i < m.size(); ++i) {
            if (auto* c = dynamic_cast<ann::Conv2d<float>*>(&m[i]))
                out.push_back({arch, int(i), cur, int(c->out_channels()), int(c->kernel_size()), 1, 0});
            cur = m[i].output_shape(cur);
        }
    }
    return out;
}

inline bool want_help(int argc, char** argv, const char* usage) {
    for (int i = 1; i < argc; ++i)
        if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
            std::printf("%s", usage);
            return true;
        }
    return false;
}

}  // namespace bench
