#pragma once
// The CUDA implementation of the backend primitives (backend/backend.hpp), float32 only:
// cuBLAS for GEMM, cuDNN's graph API for convolution (conv.cuh), our kernels (kernels.cuh) for
// the rest. All work is queued on the context's one stream; only the calls that hand values to
// the host (Memory::to_host, softmax_xent_forward's loss) wait for it.
//
// A program opts in by compiling one file with nvcc that includes ann/cuda.cuh and calling
// ann::cuda::enable() (true when a GPU is usable); without a GPU the reason is recorded and a
// request for Device::cuda fails with it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "ann/backend/backend.hpp"
#include "ann/backend/cuda/batchnorm.cuh"
#include "ann/backend/cuda/check.hpp"
#include "ann/backend/cuda/context.hpp"
#include "ann/backend/cuda/conv.cuh"
#include "ann/backend/cuda/kernels.cuh"
#include "ann/backend/cuda/kernels_extra.cuh"
#include "ann/backend/registry.hpp"

namespace ann::cuda {

class CudaMemory final : public Memory {
public:
    explicit CudaMemory(Context& ctx) : ctx_(ctx) {}
    Device device() const override { return Device::cuda; }

    void* allocate(std::size_t bytes) override {
        void* p = nullptr;
        const cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
        if (e != cudaSuccess) {
            static_cast<void>(cudaGetLastError());  // not left for a later launch check
            fail("cuda: cudaMalloc of ", bytes, " bytes failed: ", cudaGetErrorString(e), " (", static_cast<int>(e),
                 ")");
        }
        return p;
    }
    // Kernels still queued may use p: wait for them. Errors are ignored (a destructor calls this,
    // possibly during teardown when the driver is already gone).
    void deallocate(void* p) noexcept override {
        if (!p) return;
        ANN_CUDA_NOTHROW(cudaStreamSynchronize(ctx_.stream()));
        ANN_CUDA_NOTHROW(cudaFree(p));
    }
    void to_host(void* host, const void* src, std::size_t bytes) override {
        if (!bytes) return;
        ANN_CUDA_CHECK(cudaMemcpyAsync(host, src, bytes, cudaMemcpyDeviceToHost, ctx_.stream()));
        ctx_.synchronize();
    }
    void from_host(void* dst, const void* host, std::size_t bytes) override {
        if (!bytes) return;
        ANN_CUDA_CHECK(cudaMemcpyAsync(dst, host, bytes, cudaMemcpyHostToDevice, ctx_.stream()));
        ctx_.synchronize();  // the caller may reuse or free `host` as soon as this returns
    }
    void copy(void* dst, const void* src, std::size_t bytes) override {
        if (!bytes) return;
        ANN_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, ctx_.stream()));
    }
    void zero(void* dst, std::size_t bytes) override {
        if (!bytes) return;
        ANN_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, ctx_.stream()));
    }
    void synchronize() override { ctx_.synchronize(); }

private:
    Context& ctx_;
};

class CudaBackend final : public Backend<float> {
public:
    using T = float;
    explicit CudaBackend(Context& ctx) : ctx_(ctx) {}
    Device device() const override { return Device::cuda; }

    // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: cuBLAS gets B first and
    // the sizes swapped, and each row-major matrix is read as its column-major transpose with
    // the same leading dimension.
    void gemm(bool ta, bool tb, int M, int N, int K, T alpha, const T* A, int lda, const T* B, int ldb, T beta, T* C,
              int ldc) override {
        if (M == 0 || N == 0) return;
        const cublasOperation_t opA = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opB = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
        ANN_CUBLAS_CHECK(cublasSgemm(ctx_.cublas(), opB, opA, N, M, K, &alpha, B, ldb, A, lda, &beta, C, ldc));
    }
    void broadcast_rows(T* y, const T* b, std::size_t N, std::size_t F) override {
        kernels::broadcast_rows(y, b, N, F, ctx_.stream());
    }
    void add_column_sums(const T* dy, T* db, std::size_t N, std::size_t F) override {
        kernels::add_column_sums(dy, db, N, F, ctx_.stream());
    }

    std::unique_ptr<BackendState> make_conv_state() override { return std::make_unique<CudaConvState>(); }
    void conv2d_forward(const T* x, const T* w, const T* b, T* y, int N, int O, const ConvGeometry& g,
                        BackendState& s) override {
        cuda::conv2d_forward(ctx_, x, w, b, y, N, O, g, s);
    }
    void conv2d_backward_data(const T* dy, const T* w, T* dx, int N, int O, const ConvGeometry& g,
                              BackendState& s) override {
        cuda::conv2d_backward_data(ctx_, dy, w, dx, N, O, g, s);
    }
    void conv2d_backward_weights(const T* x, const T* dy, T* dw, T* db, int N, int O, const ConvGeometry& g,
                                 BackendState& s) override {
        cuda::conv2d_backward_weights(ctx_, x, dy, dw, db, N, O, g, s);
    }

    // The three steps in turn on the stream (cuDNN's runtime fusion of conv + bias + activation
    // is a later step); the conv output goes to the layer's scratch only when a pool follows.
    void conv2d_forward_fused(const T* x, const T* w, const T* b, const ConvEpilogue& e, T* y, int N, int O,
                              const ConvGeometry& g, BackendState& s) override {
        CudaConvState& st = detail::conv_state(s);
        const std::size_t n = std::size_t(N) * O * g.OH() * g.OW();
        T* c = e.pool_k ? static_cast<T*>(st.fused_conv.reserve(n * sizeof(T), ctx_.stream())) : y;
        cuda::conv2d_forward(ctx_, x, w, b, c, N, O, g, s);
        if (e.activate) kernels::activation_forward(e.activation, c, c, n, ctx_.stream());
        if (e.pool_k) {
            const std::size_t planes = std::size_t(N) * O, pooled = planes * e.PH(g) * e.PW(g);
            auto* argmax =
                static_cast<std::uint32_t*>(st.fused_argmax.reserve(pooled * sizeof(std::uint32_t), ctx_.stream()));
            kernels::maxpool_forward(c, y, argmax, planes, g.OH(), g.OW(), e.PH(g), e.PW(g), e.pool_k, e.pool_s,
                                     ctx_.stream());
        }
    }

    void maxpool_forward(const T* x, T* y, std::uint32_t* argmax, std::size_t planes, int H, int W, int OH, int OW,
                         int k, int s) override {
        kernels::maxpool_forward(x, y, argmax, planes, H, W, OH, OW, k, s, ctx_.stream());
    }
    void maxpool_backward(const T* dy, const std::uint32_t* argmax, T* dx, std::size_t planes, int H, int W, int OH,
                          int OW) override {
        kernels::maxpool_backward(dy, argmax, dx, planes, H, W, OH, OW, ctx_.stream());
    }

    void activation_forward(ActivationKind f, const T* x, T* y, std::size_t n) override {
        kernels::activation_forward(f, x, y, n, ctx_.stream());
    }
    void activation_backward(ActivationKind f, const T* y, const T* dy, T* dx, std::size_t n) override {
        kernels::activation_backward(f, y, dy, dx, n, ctx_.stream());
    }

    void batchnorm_forward_train(const T* x, const T* gamma, const T* beta, T* y, double* mean, double* invstd,
                                 T* running_mean, T* running_var, std::size_t N, std::size_t C, std::size_t HW,
                                 double eps, double momentum) override {
        auto* partial = static_cast<double*>(bn_scratch_.reserve(N * C * sizeof(double), ctx_.stream()));
        kernels::batchnorm_forward_train(x, gamma, beta, y, mean, invstd, running_mean, running_var, N, C, HW, eps,
                                         momentum, partial, ctx_.stream());
    }
    void batchnorm_forward_eval(const T* x, const T* gamma, const T* beta, const T* running_mean,
                                const T* running_var, T* y, double* mean, double* invstd, std::size_t N,
                                std::size_t C, std::size_t HW, double eps) override {
        kernels::batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, y, mean, invstd, N, C, HW, eps,
                                        ctx_.stream());
    }
    void batchnorm_backward(const T* x, const T* dy, const T* gamma, const double* mean, const double* invstd, T* dx,
                            T* dgamma, T* dbeta, std::size_t N, std::size_t C, std::size_t HW,
                            bool batch_stats) override {
        auto* scratch =
            static_cast<double*>(bn_scratch_.reserve((2 * N * C + 2 * C) * sizeof(double), ctx_.stream()));
        kernels::batchnorm_backward(x, dy, gamma, mean, invstd, dx, dgamma, dbeta, N, C, HW, batch_stats, scratch,
                                    ctx_.stream());
    }

    void leaky_relu_forward(const T* x, T* y, std::size_t n, T slope) override {
        kernels::leaky_relu_forward(x, y, n, slope, ctx_.stream());
    }
    void leaky_relu_backward(const T* x, const T* dy, T* dx, std::size_t n, T slope) override {
        kernels::leaky_relu_backward(x, dy, dx, n, slope, ctx_.stream());
    }

    void avgpool_forward(const T* x, T* y, std::size_t planes, const AvgPoolGeometry& g) override {
        kernels::avgpool_forward(x, y, planes, g, ctx_.stream());
    }
    void avgpool_backward(const T* dy, T* dx, std::size_t planes, const AvgPoolGeometry& g) override {
        kernels::avgpool_backward(dy, dx, planes, g, ctx_.stream());
    }

    void dropout_mask(std::uint8_t* mask, std::size_t n, std::size_t first, const T* seed, T* counter,
                      std::uint64_t keep_below) override {
        kernels::dropout_mask(mask, n, first, seed, counter, keep_below, ctx_.stream());
    }
    void dropout_apply(const T* x, const std::uint8_t* mask, T scale, T* y, std::size_t n) override {
        kernels::dropout_apply(x, mask, scale, y, n, ctx_.stream());
    }

    // The N per-row values come back to the host and are summed there in row order in double,
    // exactly as the CPU sums them (N floats: a negligible copy next to the logits).
    double softmax_xent_forward(const T* logits, const long* targets, std::size_t N, std::size_t K, T* prob) override {
        if (N == 0) return 0.0;
        const std::int32_t* t = upload_targets(targets, N, K);
        auto* rows = static_cast<T*>(row_values_.reserve(N * sizeof(T), ctx_.stream()));
        kernels::softmax_xent_forward(logits, t, N, K, prob, rows, ctx_.stream());
        host_rows_.resize(N);
        ANN_CUDA_CHECK(cudaMemcpyAsync(host_rows_.data(), rows, N * sizeof(T), cudaMemcpyDeviceToHost, ctx_.stream()));
        ctx_.synchronize();
        double total = 0;
        for (std::size_t n = 0; n < N; ++n) total += static_cast<double>(host_rows_[n]);
        return total;
    }
    void softmax_xent_backward(const T* prob, const long* targets, std::size_t N, std::size_t K, std::size_t divisor,
                               T* grad) override {
        if (N == 0) return;
        const std::int32_t* t = upload_targets(targets, N, K);
        kernels::softmax_xent_backward(prob, t, N, K, divisor, grad, ctx_.stream());
    }

    void sgd_update(T* w, const T* g, T* buf, std::size_t n, const SgdStep<T>& h, bool first) override {
        kernels::sgd_update(w, g, buf, n, h, first, ctx_.stream());
    }
    void adam_update(T* w, const T* g, T* m, T* v, std::size_t n, const AdamStep<T>& h) override {
        kernels::adam_update(w, g, m, v, n, h, ctx_.stream());
    }

    Context& context() { return ctx_; }

private:
    // Targets arrive on the host as long; the kernels read int32 from device scratch. A target
    // outside [0, K) would be an out-of-bounds read on the GPU, so it is refused here even
    // though the caller checks too. The backward pass usually gets the forward's targets again:
    // then the copy on the device is reused (and nothing waits).
    const std::int32_t* upload_targets(const long* targets, std::size_t N, std::size_t K) {
        bool same = targets_valid_ && host_targets_.size() == N;
        for (std::size_t n = 0; n < N; ++n) {
            if (targets[n] < 0 || static_cast<std::size_t>(targets[n]) >= K)
                fail("cuda softmax cross-entropy: target ", targets[n], " of row ", n, " is outside [0, ", K, ")");
            same = same && host_targets_[n] == static_cast<std::int32_t>(targets[n]);
        }
        if (same) return static_cast<const std::int32_t*>(targets_.data());
        targets_valid_ = false;
        host_targets_.resize(N);
        for (std::size_t n = 0; n < N; ++n) host_targets_[n] = static_cast<std::int32_t>(targets[n]);
        // Queued kernels may still read the previous targets from this buffer; the copy, queued
        // on the same stream, runs after them (and reserve() waits before replacing the buffer).
        void* d = targets_.reserve(N * sizeof(std::int32_t), ctx_.stream());
        ANN_CUDA_CHECK(cudaMemcpyAsync(d, host_targets_.data(), N * sizeof(std::int32_t), cudaMemcpyHostToDevice,
                                       ctx_.stream()));
        // From pageable memory the driver may still be reading host_targets_ after the call
        // returns; wait, so the next call may overwrite it.
        ctx_.synchronize();
        targets_valid_ = true;
        return static_cast<const std::int32_t*>(d);
    }

    Context& ctx_;
    DeviceScratch targets_, row_values_;
    DeviceScratch bn_scratch_;  // batch norm's plane and channel sums (queued work on it runs in stream order)
    std::vector<std::int32_t> host_targets_;  // what targets_ holds when targets_valid_
    bool targets_valid_ = false;
    std::vector<T> host_rows_;
};

namespace detail {
struct EnableState {
    bool enabled = false;
    std::string reason;  // why not, when enable() returned false
};
inline EnableState& enable_state() {
    static EnableState s;
    return s;
}
}  // namespace detail

// Registers the CUDA backend for Device::cuda. True when a GPU is usable (and on every later
// call); false, with the reason recorded for the error a later request for Device::cuda
// raises, when there is none or the backend cannot start. Never throws.
inline bool enable() {
    auto& st = detail::enable_state();
    if (st.enabled) return true;
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        static_cast<void>(cudaGetLastError());
        st.reason = std::string("no usable CUDA device (") + (e != cudaSuccess ? cudaGetErrorString(e) : "0 devices") +
                    ")";
        set_backend_unavailable(Device::cuda, st.reason);
        return false;
    }
    try {
        Context& ctx = Context::get();
        // Like the context, never destroyed (see Context::get).
        static CudaMemory* memory = new CudaMemory(ctx);
        static CudaBackend* backend = new CudaBackend(ctx);
        register_backend(Device::cuda, memory, backend, nullptr);
        st.enabled = true;
        st.reason.clear();
        return true;
    } catch (const std::exception& ex) {
        st.reason = std::string("the CUDA backend could not start: ") + ex.what();
        set_backend_unavailable(Device::cuda, st.reason);
        return false;
    }
}

// One line for logs: the GPU, the libraries and the exactness settings, or why there is no GPU.
inline std::string describe() {
    auto& st = detail::enable_state();
    if (!st.enabled) return "cuda: not enabled" + (st.reason.empty() ? std::string() : " (" + st.reason + ")");
    Context& ctx = Context::get();
    cudaDeviceProp prop{};
    ANN_CUDA_CHECK(cudaGetDeviceProperties(&prop, ctx.device()));
    int runtime = 0, driver = 0, cublas = 0;
    ANN_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
    ANN_CUDA_CHECK(cudaDriverGetVersion(&driver));
    ANN_CUBLAS_CHECK(cublasGetVersion(ctx.cublas(), &cublas));
    const std::size_t cudnn = cudnnGetVersion();
    const auto& o = ctx.options();
    char line[512];
    std::snprintf(line, sizeof(line),
                  "cuda: device %d %s (sm_%d%d, %d SMs, %.0f GiB), CUDA runtime %d.%d driver %d.%d, cuDNN %zu.%zu.%zu, "
                  "cuBLAS %d.%d.%d, %s, %s",
                  ctx.device(), prop.name, prop.major, prop.minor, prop.multiProcessorCount,
                  static_cast<double>(prop.totalGlobalMem) / double(1 << 30), runtime / 1000, (runtime % 1000) / 10,
                  driver / 1000, (driver % 1000) / 10, cudnn / 10000, (cudnn % 10000) / 100, cudnn % 100,
                  cublas / 10000, (cublas % 10000) / 100, cublas % 100,
                  o.deterministic ? "deterministic" : "nondeterministic allowed",
                  o.allow_tf32 ? "TF32 allowed" : "full FP32 (TF32 off)");
    return line;
}

}  // namespace ann::cuda
