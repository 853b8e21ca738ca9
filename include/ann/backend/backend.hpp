#pragma once
// The backend primitives: all the arithmetic that layers, losses and optimizers do, behind one
// signature with two implementations (the dlib `tt::` pattern):
//   cpu   backend/cpu/backend.hpp: always there; the CPU kernels (OpenBLAS, AVX-512, the pool)
//   cuda  backend/cuda/backend.cuh: cuBLAS, cuDNN and our kernels; registered by including
//         ann/cuda.cuh in one nvcc-compiled file of the program and calling ann::cuda::enable()
// Layers never branch on the device: they call backend<T>(device) and pass it raw pointers into
// memory of that device (sizes are element counts, layouts row-major / NCHW). What a primitive
// computes is specified here once; the CPU implementation is the reference, the CUDA one is
// tested against it (tests/cuda).
// backend/registry.hpp hands out the implementation of a device: ann::backend<T>(device).
//
// Memory is the per-device byte allocator and copier that ann::Array uses; it never copies between
// devices behind the caller's back: only Array::to / Array::copy_from cross devices.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "ann/backend/avgpool_windows.hpp"
#include "ann/core/device.hpp"
#include "ann/core/error.hpp"

namespace ann {

// Convolution geometry, the same for both axes' stride and padding.
struct ConvGeometry {
    int C, H, W;      // input channels and size
    int kh, kw;       // kernel size
    int stride, pad;
    int OH() const { return (H + 2 * pad - kh) / stride + 1; }
    int OW() const { return (W + 2 * pad - kw) / stride + 1; }
    int rows() const { return C * kh * kw; }
    int cols() const { return OH() * OW(); }
};

enum class ActivationKind { relu, sigmoid, tanh };

// One SGD step's hyperparameters in the tensors' type (Backend::sgd_update).
template <class T>
struct SgdStep {
    T lr = 0;
    T momentum = 0;
    T weight_decay = 0;  // L2 term added to the gradient
    bool nesterov = false;
};

// One Adam step's numbers in the tensors' type (Backend::adam_update); step_size = lr / (1 - b1^t)
// and sqrt_bc2 = sqrt(1 - b2^t) are computed in double by the optimizer, as PyTorch does.
template <class T>
struct AdamStep {
    T beta1 = 0, beta2 = 0, step_size = 0, sqrt_bc2 = 1, eps = 0;
    T weight_decay = 0;  // Adam's L2 term added to the gradient
    T decay = 1;         // AdamW's decoupled factor 1 - lr * weight_decay applied to w first
};

// What evaluation runs right after a convolution, in the same pass (conv2d_forward_fused):
// an activation (if `activate`), then a max-pool (if pool_k > 0; window pool_k, stride pool_s,
// no padding), so y = pool(f(conv(x) + b)), the same values as the three layers one after another.
struct ConvEpilogue {
    bool activate = false;
    ActivationKind activation = ActivationKind::relu;
    int pool_k = 0, pool_s = 0;
    int PH(const ConvGeometry& g) const { return pool_k ? (g.OH() - pool_k) / pool_s + 1 : g.OH(); }
    int PW(const ConvGeometry& g) const { return pool_k ? (g.OW() - pool_k) / pool_s + 1 : g.OW(); }
};

// A layer's backend-private state (the CPU's per-thread conv buffers; cuDNN's descriptors,
// plans and workspace), created by the backend the layer runs on.
struct BackendState {
    virtual ~BackendState() = default;
};

class Memory {
public:
    virtual ~Memory() = default;
    virtual Device device() const = 0;
    virtual void* allocate(std::size_t bytes) = 0;           // throws ann::Error naming the size
    virtual void deallocate(void* p) noexcept = 0;            // after all queued work on p
    virtual void to_host(void* host, const void* src, std::size_t bytes) = 0;    // waits
    virtual void from_host(void* dst, const void* host, std::size_t bytes) = 0;  // waits
    virtual void copy(void* dst, const void* src, std::size_t bytes) = 0;        // on this device
    virtual void zero(void* dst, std::size_t bytes) = 0;
    virtual void synchronize() = 0;
};

template <class T>
class Backend {
public:
    virtual ~Backend() = default;
    virtual Device device() const = 0;

    // C(M, N) = alpha op(A) op(B) + beta C, row-major (beta = 0 overwrites C).
    virtual void gemm(bool trans_a, bool trans_b, int M, int N, int K, T alpha, const T* A, int lda, const T* B,
                      int ldb, T beta, T* C, int ldc) = 0;
    // y (N, F): every row = b.
    virtual void broadcast_rows(T* y, const T* b, std::size_t N, std::size_t F) = 0;
    // db (F) += sum over the N rows of dy (N, F), rows added in order.
    virtual void add_column_sums(const T* dy, T* db, std::size_t N, std::size_t F) = 0;

    // Convolution (cross-correlation, as torch.nn.Conv2d). x (N, C, H, W), w (O, C, kh, kw),
    // b (O) or null, y (N, O, OH, OW). state comes from make_conv_state() of this backend.
    virtual std::unique_ptr<BackendState> make_conv_state() = 0;
    virtual void conv2d_forward(const T* x, const T* w, const T* b, T* y, int N, int O, const ConvGeometry& g,
                                BackendState& state) = 0;                                    // y overwritten
    virtual void conv2d_backward_data(const T* dy, const T* w, T* dx, int N, int O, const ConvGeometry& g,
                                      BackendState& state) = 0;                              // dx overwritten
    virtual void conv2d_backward_weights(const T* x, const T* dy, T* dw, T* db, int N, int O, const ConvGeometry& g,
                                         BackendState& state) = 0;                           // dw, db accumulated
    // Forward only (evaluation): y (N, O, e.PH, e.PW) = e's activation and pool applied to
    // conv(x, w) + b, with nothing kept for backward; the same bits as conv2d_forward,
    // activation_forward and maxpool_forward in turn.
    virtual void conv2d_forward_fused(const T* x, const T* w, const T* b, const ConvEpilogue& e, T* y, int N, int O,
                                      const ConvGeometry& g, BackendState& state) = 0;

    // Max pooling without padding over `planes` (N*C) planes of H x W: y and argmax are
    // (planes, OH, OW); argmax is the index inside the plane of the window's first maximum
    // (a NaN wins its window, as in PyTorch).
    virtual void maxpool_forward(const T* x, T* y, std::uint32_t* argmax, std::size_t planes, int H, int W, int OH,
                                 int OW, int k, int s) = 0;
    // dx (planes, H, W) = the gradients dy routed to the argmax positions, overwritten; where
    // windows overlap, a position's contributions are added in window order.
    virtual void maxpool_backward(const T* dy, const std::uint32_t* argmax, T* dx, std::size_t planes, int H, int W,
                                  int OH, int OW) = 0;

    // y = f(x); dx = dy * f'(x) computed from y (see layers/activations.hpp).
    virtual void activation_forward(ActivationKind f, const T* x, T* y, std::size_t n) = 0;
    virtual void activation_backward(ActivationKind f, const T* y, const T* dy, T* dx, std::size_t n) = 0;

    // Batch normalisation (torch.nn.BatchNorm2d) per channel c over its M = N*HW values:
    // x, y, dy, dx are (N, C, HW); gamma, beta, running_mean, running_var, dgamma, dbeta are (C);
    // mean and invstd are (C) in double: the statistics a later backward uses. gamma and beta null
    // mean 1 and 0 (affine=False). Statistics and every per-element expression are computed in
    // double and rounded to T once (see cpu/batchnorm.hpp for the summation order, which both
    // backends follow):
    //   y = (x - mean) * (invstd * gamma) + beta                                  (y overwritten)
    // Training: mean and the biased variance var of the batch (two passes: the variance from
    // the centred values), invstd = 1 / sqrt(var + eps) written; then, M >= 2 (the caller checks),
    //   running_mean = momentum * mean + (1 - momentum) * running_mean
    //   running_var  = momentum * var * M/(M-1) + (1 - momentum) * running_var    (unbiased, PyTorch's)
    virtual void batchnorm_forward_train(const T* x, const T* gamma, const T* beta, T* y, double* mean,
                                         double* invstd, T* running_mean, T* running_var, std::size_t N,
                                         std::size_t C, std::size_t HW, double eps, double momentum) = 0;
    // Evaluation: mean = running_mean and invstd = 1 / sqrt(running_var + eps) written, y as above.
    virtual void batchnorm_forward_eval(const T* x, const T* gamma, const T* beta, const T* running_mean,
                                        const T* running_var, T* y, double* mean, double* invstd, std::size_t N,
                                        std::size_t C, std::size_t HW, double eps) = 0;
    // Gradients for the x of a forward that wrote mean and invstd, xhat = (x - mean) * invstd:
    //   dbeta += sum dy ;  dgamma += sum dy * xhat                   (accumulated; null: skipped)
    //   batch_stats (a training forward: mean and invstd depend on x), PyTorch's formula:
    //     dx = (dy - sum(dy)/M - (x - mean) * invstd^2 * sum(dy * (x - mean))/M) * invstd * gamma
    //   otherwise (running statistics, constants):  dx = dy * invstd * gamma
    //                                                               (dx overwritten; null: skipped)
    virtual void batchnorm_backward(const T* x, const T* dy, const T* gamma, const double* mean,
                                    const double* invstd, T* dx, T* dgamma, T* dbeta, std::size_t N, std::size_t C,
                                    std::size_t HW, bool batch_stats) = 0;

    // LeakyReLU (torch.nn.LeakyReLU): y = x > 0 ? x : slope x ; dx = dy * (x > 0 ? 1 : slope),
    // PyTorch's rule (the slope at x == 0 too). dx overwritten. Backward may be given the output y
    // for x when slope >= 0: then y > 0 exactly where x > 0.
    virtual void leaky_relu_forward(const T* x, T* y, std::size_t n, T slope) = 0;
    virtual void leaky_relu_backward(const T* x, const T* dy, T* dx, std::size_t n, T slope) = 0;

    // Average pooling over `planes` (N*C) planes: x (planes, g.H, g.W), y (planes, g.OH, g.OW),
    // windows and divisors as avgpool_windows.hpp says (AvgPool2d or AdaptiveAvgPool2d).
    // y overwritten; backward: dx (planes, H, W) overwritten with the gradient of the input.
    virtual void avgpool_forward(const T* x, T* y, std::size_t planes, const AvgPoolGeometry& g) = 0;
    virtual void avgpool_backward(const T* dy, T* dx, std::size_t planes, const AvgPoolGeometry& g) = 0;

    // Dropout's mask for one training forward (backend/dropout_hash.hpp): with the seed decoded
    // from seed[0..3] and k from counter[0..1], mask[i] = keep(seed, k, first + i, keep_below)
    // (1 or 0), i in [0, n), where first is mask[0]'s index in the whole batch (a data-parallel
    // process's shard starts there, so the processes draw the single-process mask between them;
    // 0 otherwise); then counter := k + 1 (mod 2^40). seed and counter live on this device, so a
    // forward on a GPU never waits for the host. mask overwritten.
    virtual void dropout_mask(std::uint8_t* mask, std::size_t n, std::size_t first, const T* seed, T* counter,
                              std::uint64_t keep_below) = 0;
    // y = x * (mask ? scale : 0), element-wise, y overwritten: dropout's forward (x the input) and
    // backward (x the output gradient). A dropped inf or NaN gives NaN, as x * 0 does in PyTorch.
    virtual void dropout_apply(const T* x, const std::uint8_t* mask, T scale, T* y, std::size_t n) = 0;

    // Softmax cross-entropy of logits (N, K) against host targets (N, checked in [0, K) by the
    // caller). prob (N, K) gets the softmax; returns the sum over rows (in row order, in double)
    // of log(sum_k exp(z_k - max)) - (z_t - max), on the host.
    virtual double softmax_xent_forward(const T* logits, const long* targets, std::size_t N, std::size_t K,
                                        T* prob) = 0;
    // grad (N, K) = (prob - onehot(targets)) / divisor, divisor >= 1: N for the mean over a whole
    // batch; the global batch size when these N rows are one process's shard of it (train/collective.hpp).
    virtual void softmax_xent_backward(const T* prob, const long* targets, std::size_t N, std::size_t K,
                                       std::size_t divisor, T* grad) = 0;

    // SGD (PyTorch's rule, torch.optim.SGD with dampening 0), element-wise, all in place:
    //   d = g + weight_decay w                          (the term only when weight_decay != 0)
    //   buf null (momentum 0): w -= lr d.  Else first: buf = d; otherwise buf = momentum buf + d;
    //   then d = nesterov ? d + momentum buf : buf, and w -= lr d.  g is never written.
    virtual void sgd_update(T* w, const T* g, T* buf, std::size_t n, const SgdStep<T>& h, bool first) = 0;
    // Adam / AdamW (PyTorch's rule), element-wise, all in place; g is never written:
    //   d = g + weight_decay w    (Adam's L2 term, only when weight_decay != 0; w before the decay)
    //   w = decay w               (AdamW's decoupled decay 1 - lr wd, only when decay != 1)
    //   m = b1 m + (1-b1) d ; v = b2 v + (1-b2) d^2 ; w -= step_size * m / (sqrt(v) / sqrt_bc2 + eps).
    virtual void adam_update(T* w, const T* g, T* m, T* v, std::size_t n, const AdamStep<T>& h) = 0;
};

}  // namespace ann
