#pragma once
// Context: the GPU state every device layer shares: one stream (all work is enqueued on it, so
// a training step can be captured into a CUDA graph), the cuDNN and cuBLAS handles bound to that
// stream, one growing workspace for cuDNN, and a vector of ones for cuBLAS row sums.
//
// Context::get() makes one on first use, on the device that is current at that moment
// (cudaSetDevice before the first call chooses the GPU at run time).
#include <cstddef>
#include <cstdlib>
#include <string>
#include <vector>

#include "ann/backend/cuda/buffer.hpp"

namespace ann::cuda {

// How convolution algorithms are chosen, once per shape.
enum class ConvAlgoChoice {
    find,       // cudnnFind*: time every applicable algorithm on the GPU and take the fastest
    heuristic,  // cudnnGet*_v7: cuDNN's heuristics, no timing runs
};

struct ContextOptions {
    ConvAlgoChoice conv_algo = ConvAlgoChoice::find;
    // Off by default: TF32 tensor cores round inputs to 10 mantissa bits, which breaks the
    // 1e-4 agreement with the CPU backend. Benchmarks may turn it on (PyTorch's conv default).
    bool allow_tf32 = false;
    // Upper bound on a convolution algorithm's workspace.
    std::size_t max_workspace_bytes = std::size_t(256) << 20;
};

class Context {
public:
    explicit Context(ContextOptions o = {}) : opts_(o) {
        ANN_CUDA_CHECK(cudaGetDevice(&device_));
        ANN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
        ANN_CUDNN_CHECK(cudnnCreate(&cudnn_));
        ANN_CUDNN_CHECK(cudnnSetStream(cudnn_, stream_));
        ANN_CUBLAS_CHECK(cublasCreate(&cublas_));
        ANN_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
        // A fixed cuBLAS workspace: cuBLAS then allocates nothing inside a graph capture.
        cublas_ws_.reserve(std::size_t(4) << 20);
        ANN_CUBLAS_CHECK(cublasSetWorkspace(cublas_, cublas_ws_.data(), cublas_ws_.capacity()));
        ANN_CUBLAS_CHECK(cublasSetMathMode(cublas_, o.allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    }
    ~Context() {
        if (cublas_) ANN_CUDA_NOTHROW(cublasDestroy(cublas_));
        if (cudnn_) ANN_CUDA_NOTHROW(cudnnDestroy(cudnn_));
        if (stream_) ANN_CUDA_NOTHROW(cudaStreamDestroy(stream_));
    }
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    // The shared context. Its options come from the environment, so a program's algorithm
    // choice can be changed without rebuilding it:
    //   ANN_CUDA_CONV_ALGO=heuristic   cuDNN's heuristics instead of timing every algorithm
    //                                  (much faster under compute-sanitizer)
    //   ANN_CUDA_TF32=1                allow TF32 tensor cores
    static Context& get() {
        static Context ctx(options_from_env());
        return ctx;
    }
    static ContextOptions options_from_env() {
        ContextOptions o;
        if (const char* a = std::getenv("ANN_CUDA_CONV_ALGO"); a && std::string(a) == "heuristic")
            o.conv_algo = ConvAlgoChoice::heuristic;
        if (const char* t = std::getenv("ANN_CUDA_TF32"); t && std::string(t) == "1") o.allow_tf32 = true;
        return o;
    }

    cudaStream_t stream() const { return stream_; }
    cudnnHandle_t cudnn() const { return cudnn_; }
    cublasHandle_t cublas() const { return cublas_; }
    int device() const { return device_; }
    const ContextOptions& options() const { return opts_; }
    void set_conv_algo_choice(ConvAlgoChoice c) { opts_.conv_algo = c; }

    // Scratch memory for cuDNN. Grows only; never call it while a graph is being captured
    // (a warm-up step outside the capture sizes it).
    void* workspace(std::size_t bytes) {
        if (bytes > workspace_.capacity()) {
            synchronize();  // the old workspace may still be in use by queued work
            workspace_.reserve(bytes);
        }
        return workspace_.data();
    }
    std::size_t workspace_size() const { return workspace_.capacity(); }

    // n ones, for sums over the batch by gemv.
    const float* ones(std::size_t n) {
        if (n > ones_.capacity()) {
            synchronize();
            ones_.reserve(n);
            const std::vector<float> h(n, 1.0f);
            ANN_CUDA_CHECK(cudaMemcpy(ones_.data(), h.data(), n * sizeof(float), cudaMemcpyHostToDevice));
        }
        return ones_.data();
    }

    void synchronize() const { ANN_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

private:
    ContextOptions opts_;
    int device_ = 0;
    cudaStream_t stream_ = nullptr;
    cudnnHandle_t cudnn_ = nullptr;
    cublasHandle_t cublas_ = nullptr;
    DeviceBuffer<char> cublas_ws_, workspace_;
    DeviceBuffer<float> ones_;
};

// True when a CUDA device is usable; never throws (tests use it to decide whether to skip).
inline int device_count() noexcept {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        static_cast<void>(cudaGetLastError());
        return 0;
    }
    return n;
}

}  // namespace ann::cuda
