#pragma once
// Context: the GPU state the CUDA backend's primitives share: one non-blocking stream (all work
// is queued on it, in program order, so no primitive needs to synchronize with another), the
// cuDNN and cuBLAS handles bound to that stream, cuBLAS's fixed workspace, one growing scratch
// workspace for cuDNN, and the options that decide how exact the arithmetic must be.
//
// Context::get() makes the one context on first use, on the device that is current at that
// moment (cudaSetDevice before the first call chooses the GPU at run time).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "ann/backend/cuda/check.hpp"

namespace ann::cuda {

struct ContextOptions {
    // On by default: the same program on the same GPU gives the same bits on every run
    // (cuDNN engines noted NONDETERMINISTIC, e.g. split reductions by atomics, are refused).
    // ANN_CUDA_NONDETERMINISTIC=1 (the programs' --fast-nondeterministic) turns it off.
    bool deterministic = true;
    // Off by default: TF32 tensor cores round inputs to 10 mantissa bits, which breaks the
    // agreement with the CPU backend. ANN_CUDA_TF32=1 turns it on (PyTorch's conv default).
    bool allow_tf32 = false;
    // Upper bound on one convolution plan's workspace; engines that want more are skipped.
    std::size_t max_conv_workspace_bytes = std::size_t(256) << 20;
};

// Raw device memory that only grows (a training loop with a fixed batch size allocates once).
// Contents are not kept when it grows.
class DeviceScratch {
public:
    DeviceScratch() = default;
    ~DeviceScratch() { release(); }
    DeviceScratch(const DeviceScratch&) = delete;
    DeviceScratch& operator=(const DeviceScratch&) = delete;

    // At least `bytes` bytes (256-byte aligned: cudaMalloc's guarantee).
    void* reserve(std::size_t bytes, cudaStream_t stream) {
        if (bytes <= size_ && p_) return p_;
        // Work already queued on the stream may still read or write the old block: wait for it
        // before the block goes back to the driver.
        release();
        void* p = nullptr;
        ANN_CUDA_CHECK(cudaMalloc(&p, bytes ? bytes : 1));
        p_ = p;
        size_ = bytes;
        stream_ = stream;
        return p_;
    }
    void* data() const { return p_; }
    std::size_t size() const { return size_; }

    void release() noexcept {
        if (p_) {
            ANN_CUDA_NOTHROW(cudaStreamSynchronize(stream_));
            ANN_CUDA_NOTHROW(cudaFree(p_));
        }
        p_ = nullptr;
        size_ = 0;
    }

private:
    void* p_ = nullptr;
    std::size_t size_ = 0;
    cudaStream_t stream_ = nullptr;
};

class Context {
public:
    // cuBLAS on Hopper wants a 32 MiB workspace for its fastest kernels (4 MiB before sm_90).
    // A fixed, user-provided workspace also means cuBLAS allocates nothing on its own later.
    static constexpr std::size_t kCublasWorkspaceBytes = std::size_t(32) << 20;

    explicit Context(ContextOptions o = {}) : opts_(o) {
        try {
            ANN_CUDA_CHECK(cudaGetDevice(&device_));
            ANN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
            ANN_CUDNN_CHECK(cudnnCreate(&cudnn_));
            ANN_CUDNN_CHECK(cudnnSetStream(cudnn_, stream_));
            ANN_CUBLAS_CHECK(cublasCreate(&cublas_));
            // cublasSetStream resets the workspace to cuBLAS's own pool: set the stream first.
            ANN_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
            void* ws = cublas_ws_.reserve(kCublasWorkspaceBytes, stream_);
            ANN_CUBLAS_CHECK(cublasSetWorkspace(cublas_, ws, kCublasWorkspaceBytes));
            // CUBLAS_DEFAULT_MATH: SGEMM computes in FP32 (tensor cores only where they keep at least
            // FP32's mantissa, i.e. never TF32). CUBLAS_TF32_TENSOR_OP_MATH lets SGEMM round its
            // inputs to TF32 for speed.
            ANN_CUBLAS_CHECK(
                cublasSetMathMode(cublas_, opts_.allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
            // The default, stated because reproducibility depends on it: no cuBLAS routine may
            // use atomics (they would make sums order-dependent).
            ANN_CUBLAS_CHECK(cublasSetAtomicsMode(cublas_, CUBLAS_ATOMICS_NOT_ALLOWED));
#if CUDNN_VERSION >= 90800
            // cuDNN's heuristics need to know the GPU. Since 9.8 that is a device-properties
            // descriptor; the older way, a handle on the operation graph, is deprecated.
            ANN_CUDNN_CHECK(cudnnBackendCreateDescriptor(CUDNN_BACKEND_DEVICEPROP_DESCRIPTOR, &device_prop_));
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(device_prop_, CUDNN_ATTR_DEVICEPROP_HANDLE, CUDNN_TYPE_HANDLE,
                                                     1, &cudnn_));
            const std::int32_t id = device_;
            ANN_CUDNN_CHECK(cudnnBackendSetAttribute(device_prop_, CUDNN_ATTR_DEVICEPROP_DEVICE_ID, CUDNN_TYPE_INT32,
                                                     1, &id));
            ANN_CUDNN_CHECK(cudnnBackendFinalize(device_prop_));
#endif
        } catch (...) {
            release();
            throw;
        }
    }
    ~Context() { release(); }
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    // The shared context. Created on the heap and never destroyed: arrays and layers with static
    // storage may free device memory after main returns, in any order relative to a function-local
    // static, and the driver reclaims everything at process exit anyway.
    static Context& get() {
        static Context* ctx = new Context(options_from_env());
        return *ctx;
    }
    // Options from the environment, so a program's exactness can be changed without rebuilding:
    //   ANN_CUDA_NONDETERMINISTIC=1  allow nondeterministic cuDNN engines (--fast-nondeterministic)
    //   ANN_CUDA_TF32=1              allow TF32 tensor cores in cuBLAS and cuDNN
    static ContextOptions options_from_env() {
        ContextOptions o;
        if (env_is_1("ANN_CUDA_NONDETERMINISTIC")) o.deterministic = false;
        if (env_is_1("ANN_CUDA_TF32")) o.allow_tf32 = true;
        return o;
    }

    cudaStream_t stream() const { return stream_; }
    cudnnHandle_t cudnn() const { return cudnn_; }
    cublasHandle_t cublas() const { return cublas_; }
    int device() const { return device_; }
    const ContextOptions& options() const { return opts_; }
    // Null before cuDNN 9.8 (the operation graph then carries the handle instead).
    cudnnBackendDescriptor_t cudnn_device_properties() const { return device_prop_; }

    // Scratch memory for cuDNN, valid until the next call. Grows only; growing waits for the
    // queued work that may still use the old block.
    void* workspace(std::size_t bytes) {
        if (bytes == 0) return workspace_.data();
        return workspace_.reserve(bytes, stream_);
    }
    std::size_t workspace_size() const { return workspace_.size(); }

    void synchronize() const { ANN_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

private:
    static bool env_is_1(const char* name) {
        const char* v = std::getenv(name);
        return v && std::strcmp(v, "1") == 0;
    }

    void release() noexcept {
        if (stream_) ANN_CUDA_NOTHROW(cudaStreamSynchronize(stream_));
        workspace_.release();
        cublas_ws_.release();
        if (device_prop_) ANN_CUDA_NOTHROW(cudnnBackendDestroyDescriptor(device_prop_));
        if (cublas_) ANN_CUDA_NOTHROW(cublasDestroy(cublas_));
        if (cudnn_) ANN_CUDA_NOTHROW(cudnnDestroy(cudnn_));
        if (stream_) ANN_CUDA_NOTHROW(cudaStreamDestroy(stream_));
        device_prop_ = nullptr;
        cublas_ = nullptr;
        cudnn_ = nullptr;
        stream_ = nullptr;
    }

    ContextOptions opts_;
    int device_ = 0;
    cudaStream_t stream_ = nullptr;
    cudnnHandle_t cudnn_ = nullptr;
    cublasHandle_t cublas_ = nullptr;
    cudnnBackendDescriptor_t device_prop_ = nullptr;
    DeviceScratch cublas_ws_, workspace_;
};

}  // namespace ann::cuda
