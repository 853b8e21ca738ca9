#pragma once
// The CUDA backend's own kernels: every primitive that cuBLAS and cuDNN do not cover. Each one
// computes what its CPU counterpart (backend/cpu/*.hpp) computes, with the same formula, the
// same tie rules and, where that costs little, the same order of additions, so the two
// backends agree to the last bit wherever the math library allows (exp, log and tanh differ
// from glibc's by an ulp or two; +, *, / and sqrt are IEEE-exact on both).
//
// Exactness is written into the code rather than left to compiler flags:
//   - division and square root go through __fdiv_rn / __fsqrt_rn (IEEE round-to-nearest even
//     under -prec-div=false / -prec-sqrt=false), and --use_fast_math is refused below;
//   - a product that the CPU rounds before an addition is written mul_rn(a, b) (__fmul_rn),
//     which nvcc never contracts into an FMA (it contracts a*b+c by default, -fmad=true);
//   - where the CPU itself fuses (the AVX-512 Adam kernel), fma() is written explicitly.
// No kernel uses atomics: every sum has one fixed order, so results are deterministic.
//
// Kernels are templates so that this header can be included by several .cu files of one
// program. Every launcher enqueues on the given stream and checks the launch.
#include <cstddef>
#include <cstdint>

#include "ann/backend/backend.hpp"
#include "ann/backend/cuda/check.hpp"

#if defined(__USE_FAST_MATH__)
#error "ann's CUDA kernels need IEEE arithmetic: do not compile them with --use_fast_math"
#endif

namespace ann::cuda::kernels {

constexpr int kThreads = 256;

// Blocks for n work items (grid-stride loops cover any n with a bounded grid).
inline unsigned blocks_for(std::size_t n, int threads = kThreads) {
    const std::size_t b = (n + threads - 1) / threads;
    const std::size_t cap = std::size_t(1) << 16;
    return static_cast<unsigned>(b == 0 ? 1 : (b < cap ? b : cap));
}

// ---- exact arithmetic helpers (see the header comment) ----
__device__ inline float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ inline double mul_rn(double a, double b) { return __dmul_rn(a, b); }
__device__ inline float div_rn(float a, float b) { return __fdiv_rn(a, b); }
__device__ inline double div_rn(double a, double b) { return __ddiv_rn(a, b); }
__device__ inline float sqrt_rn(float a) { return __fsqrt_rn(a); }
__device__ inline double sqrt_rn(double a) { return __dsqrt_rn(a); }
__device__ inline float fma_rn(float a, float b, float c) { return __fmaf_rn(a, b, c); }
__device__ inline double fma_rn(double a, double b, double c) { return __fma_rn(a, b, c); }
__device__ inline float exp_(float a) { return expf(a); }
__device__ inline double exp_(double a) { return ::exp(a); }
__device__ inline float log_(float a) { return logf(a); }
__device__ inline double log_(double a) { return ::log(a); }
__device__ inline float tanh_(float a) { return tanhf(a); }
__device__ inline double tanh_(double a) { return ::tanh(a); }
__device__ inline bool isnan_(float a) { return isnan(a); }
__device__ inline bool isnan_(double a) { return isnan(a); }

__device__ inline std::size_t thread_index() { return std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ inline std::size_t thread_count() { return std::size_t(gridDim.x) * blockDim.x; }

// ---- dense layers ----

// y (N, F): every row = b.
template <class T>
__global__ void broadcast_rows_kernel(T* __restrict__ y, const T* __restrict__ b, std::size_t N, std::size_t F) {
    for (std::size_t i = thread_index(); i < N * F; i += thread_count()) y[i] = b[i % F];
}
template <class T>
void broadcast_rows(T* y, const T* b, std::size_t N, std::size_t F, cudaStream_t s) {
    if (N * F == 0) return;
    broadcast_rows_kernel<T><<<blocks_for(N * F), kThreads, 0, s>>>(y, b, N, F);
    ANN_CUDA_CHECK_LAUNCH("broadcast_rows_kernel");
}

// db (F) += column sums of dy (N, F). One thread per column adds rows 0..N-1 in order onto
// db[o], exactly the CPU loop (neighbouring threads read neighbouring columns: coalesced).
template <class T>
__global__ void add_column_sums_kernel(const T* __restrict__ dy, T* __restrict__ db, std::size_t N, std::size_t F) {
    for (std::size_t o = thread_index(); o < F; o += thread_count()) {
        T acc = db[o];
        for (std::size_t n = 0; n < N; ++n) acc += dy[n * F + o];
        db[o] = acc;
    }
}
template <class T>
void add_column_sums(const T* dy, T* db, std::size_t N, std::size_t F, cudaStream_t s) {
    if (F == 0 || N == 0) return;
    add_column_sums_kernel<T><<<blocks_for(F), kThreads, 0, s>>>(dy, db, N, F);
    ANN_CUDA_CHECK_LAUNCH("add_column_sums_kernel");
}

// ---- convolution bias ----

// y (N, O, P) += b[o] for every image and position.
template <class T>
__global__ void add_channel_bias_kernel(T* __restrict__ y, const T* __restrict__ b, std::size_t N, std::size_t O,
                                        std::size_t P) {
    for (std::size_t i = thread_index(); i < N * O * P; i += thread_count()) y[i] += b[(i / P) % O];
}
template <class T>
void add_channel_bias(T* y, const T* b, std::size_t N, std::size_t O, std::size_t P, cudaStream_t s) {
    if (N * O * P == 0) return;
    add_channel_bias_kernel<T><<<blocks_for(N * O * P), kThreads, 0, s>>>(y, b, N, O, P);
    ANN_CUDA_CHECK_LAUNCH("add_channel_bias_kernel");
}

// db (O) += sum over images and positions of dy (N, O, P), in the CPU's order
// (cpu::conv2d_bias_partial, then cpu::conv2d_reduce_weight_partials):
//   partial[n][o] = dy[n][o][0] + dy[n][o][1] + ... (from 0, position order)
//   db[o] += ((partial[0][o] + partial[1][o]) + partial[2][o]) + ...
// Step 1 is one thread per (image, channel), step 2 one thread per channel.
template <class T>
__global__ void bias_partials_kernel(const T* __restrict__ dy, T* __restrict__ partial, std::size_t NO,
                                     std::size_t P) {
    for (std::size_t j = thread_index(); j < NO; j += thread_count()) {
        const T* row = dy + j * P;
        T sum = 0;
        for (std::size_t q = 0; q < P; ++q) sum += row[q];
        partial[j] = sum;
    }
}
template <class T>
__global__ void bias_reduce_kernel(const T* __restrict__ partial, T* __restrict__ db, std::size_t N, std::size_t O) {
    for (std::size_t o = thread_index(); o < O; o += thread_count()) {
        T acc = partial[o];
        for (std::size_t n = 1; n < N; ++n) acc += partial[n * O + o];
        db[o] += acc;
    }
}
// partial: N*O elements of scratch.
template <class T>
void add_conv_bias_grad(const T* dy, T* db, T* partial, std::size_t N, std::size_t O, std::size_t P,
                        cudaStream_t s) {
    if (N == 0 || O == 0) return;
    bias_partials_kernel<T><<<blocks_for(N * O), kThreads, 0, s>>>(dy, partial, N * O, P);
    ANN_CUDA_CHECK_LAUNCH("bias_partials_kernel");
    bias_reduce_kernel<T><<<blocks_for(O), kThreads, 0, s>>>(partial, db, N, O);
    ANN_CUDA_CHECK_LAUNCH("bias_reduce_kernel");
}

// ---- max pooling (no padding) ----

// One thread per output, the loop of cpu::maxpool_plane: the best starts at the window's
// top-left, rows then columns are scanned, a strictly larger value or any NaN takes over.
template <class T>
__global__ void maxpool_forward_kernel(const T* __restrict__ x, T* __restrict__ y, std::uint32_t* __restrict__ argmax,
                                       std::size_t planes, int H, int W, int OH, int OW, int k, int s) {
    const std::size_t HW = std::size_t(H) * W, OHW = std::size_t(OH) * OW;
    for (std::size_t o = thread_index(); o < planes * OHW; o += thread_count()) {
        const std::size_t p = o / OHW, r = o % OHW;
        const std::size_t oh = r / OW, ow = r % OW;
        const T* plane = x + p * HW;
        std::size_t best = (oh * s) * W + ow * s;
        T best_v = plane[best];
        for (int i = 0; i < k; ++i)
            for (int j = 0; j < k; ++j) {
                const std::size_t idx = (oh * s + i) * W + ow * s + j;
                const T v = plane[idx];
                if (v > best_v || isnan_(v)) {
                    best = idx;
                    best_v = v;
                }
            }
        y[o] = best_v;
        argmax[o] = static_cast<std::uint32_t>(best);
    }
}
template <class T>
void maxpool_forward(const T* x, T* y, std::uint32_t* argmax, std::size_t planes, int H, int W, int OH, int OW, int k,
                     int s, cudaStream_t stream) {
    const std::size_t n = planes * std::size_t(OH) * OW;
    if (n == 0) return;
    maxpool_forward_kernel<T><<<blocks_for(n), kThreads, 0, stream>>>(x, y, argmax, planes, H, W, OH, OW, k, s);
    ANN_CUDA_CHECK_LAUNCH("maxpool_forward_kernel");
}

// dx (planes, H, W) = dy routed to the argmax positions, where overlapping windows send
// several gradients to one position added in window order: exactly cpu::maxpool_backward's
//   dx = 0; for o in 0, 1, ...: dx[argmax[o]] += dy[o]
// The primitive is not told the window size and stride, so a gather over "the windows that
// contain this position" cannot be formed; instead one warp owns one plane and replays that
// loop 32 windows at a time. Within a chunk, windows routed to the same position are found
// with __match_any_sync and added by the group's lowest lane in lane (= window) order;
// __syncwarp orders the chunks. Without overlap (the usual 2x2/2) every chunk takes the
// direct path. No atomics: the result is the CPU's, bit for bit.
template <class T>
__global__ void maxpool_backward_kernel(const T* __restrict__ dy, const std::uint32_t* __restrict__ argmax,
                                        T* __restrict__ dx, std::size_t planes, std::size_t HW, std::size_t OHW) {
    constexpr unsigned kAll = 0xffffffffu;
    const unsigned lane = threadIdx.x & 31u;
    const std::size_t warps = thread_count() / 32;
    for (std::size_t p = thread_index() / 32; p < planes; p += warps) {  // uniform across the warp
        T* dxp = dx + p * HW;
        const T* dyp = dy + p * OHW;
        const std::uint32_t* ap = argmax + p * OHW;
        for (std::size_t i = lane; i < HW; i += 32) dxp[i] = T(0);
        __syncwarp();
        for (std::size_t base = 0; base < OHW; base += 32) {
            const std::size_t o = base + lane;
            const bool active = o < OHW;
            const std::uint32_t pos = active ? ap[o] : 0xffffffffu;
            const T g = active ? dyp[o] : T(0);
            const unsigned peers = __match_any_sync(kAll, pos);
            if (__all_sync(kAll, !active || __popc(peers) == 1)) {
                if (active) dxp[pos] += g;
            } else {
                const bool leader = active && unsigned(__ffs(peers) - 1) == lane;
                T acc = leader ? dxp[pos] : T(0);
                for (unsigned j = 0; j < 32; ++j) {
                    const T v = __shfl_sync(kAll, g, j);
                    if (leader && ((peers >> j) & 1u)) acc += v;
                }
                if (leader) dxp[pos] = acc;
            }
            __syncwarp();
        }
    }
}
template <class T>
void maxpool_backward(const T* dy, const std::uint32_t* argmax, T* dx, std::size_t planes, int H, int W, int OH,
                      int OW, cudaStream_t s) {
    if (planes == 0 || std::size_t(H) * W == 0) return;
    const unsigned blocks = blocks_for(planes * 32);
    maxpool_backward_kernel<T><<<blocks, kThreads, 0, s>>>(dy, argmax, dx, planes, std::size_t(H) * W,
                                                           std::size_t(OH) * OW);
    ANN_CUDA_CHECK_LAUNCH("maxpool_backward_kernel");
}

// ---- activations (the formulas of cpu/activations.hpp; derivatives from the output y) ----

struct ReluOp {
    template <class T> __device__ static T f(T x) { return x > T(0) ? x : T(0); }
    template <class T> __device__ static T df_from_y(T y) { return y > T(0) ? T(1) : T(0); }
};
struct SigmoidOp {
    // Two branches so exp never overflows for large |x|.
    template <class T> __device__ static T f(T x) {
        if (x >= T(0)) return div_rn(T(1), T(1) + exp_(-x));
        const T e = exp_(x);
        return div_rn(e, T(1) + e);
    }
    template <class T> __device__ static T df_from_y(T y) { return mul_rn(y, T(1) - y); }
};
struct TanhOp {
    template <class T> __device__ static T f(T x) { return tanh_(x); }
    template <class T> __device__ static T df_from_y(T y) { return T(1) - mul_rn(y, y); }
};

template <class Op, class T>
__global__ void activation_forward_kernel(const T* __restrict__ x, T* __restrict__ y, std::size_t n) {
    for (std::size_t i = thread_index(); i < n; i += thread_count()) y[i] = Op::f(x[i]);
}
template <class Op, class T>
__global__ void activation_backward_kernel(const T* __restrict__ y, const T* __restrict__ dy, T* __restrict__ dx,
                                           std::size_t n) {
    for (std::size_t i = thread_index(); i < n; i += thread_count()) dx[i] = mul_rn(dy[i], Op::df_from_y(y[i]));
}

template <class T>
void activation_forward(ActivationKind f, const T* x, T* y, std::size_t n, cudaStream_t s) {
    if (n == 0) return;
    switch (f) {
        case ActivationKind::relu:
            activation_forward_kernel<ReluOp, T><<<blocks_for(n), kThreads, 0, s>>>(x, y, n);
            break;
        case ActivationKind::sigmoid:
            activation_forward_kernel<SigmoidOp, T><<<blocks_for(n), kThreads, 0, s>>>(x, y, n);
            break;
        case ActivationKind::tanh:
            activation_forward_kernel<TanhOp, T><<<blocks_for(n), kThreads, 0, s>>>(x, y, n);
            break;
    }
    ANN_CUDA_CHECK_LAUNCH("activation_forward_kernel");
}
template <class T>
void activation_backward(ActivationKind f, const T* y, const T* dy, T* dx, std::size_t n, cudaStream_t s) {
    if (n == 0) return;
    switch (f) {
        case ActivationKind::relu:
            activation_backward_kernel<ReluOp, T><<<blocks_for(n), kThreads, 0, s>>>(y, dy, dx, n);
            break;
        case ActivationKind::sigmoid:
            activation_backward_kernel<SigmoidOp, T><<<blocks_for(n), kThreads, 0, s>>>(y, dy, dx, n);
            break;
        case ActivationKind::tanh:
            activation_backward_kernel<TanhOp, T><<<blocks_for(n), kThreads, 0, s>>>(y, dy, dx, n);
            break;
    }
    ANN_CUDA_CHECK_LAUNCH("activation_backward_kernel");
}

// ---- softmax cross-entropy (cpu/softmax_xent.hpp) ----

// One thread per row, the CPU's loop: max (std::max's comparison), exp and sum in column order,
// then row_value[n] = log(sum) - (z_t - max) and prob = exp / sum. targets are int32, already
// checked in [0, K). The caller sums row_value on the host, in row order, in double.
template <class T>
__global__ void softmax_xent_forward_kernel(const T* __restrict__ logits, const std::int32_t* __restrict__ targets,
                                            std::size_t N, std::size_t K, T* __restrict__ prob,
                                            T* __restrict__ row_value) {
    for (std::size_t n = thread_index(); n < N; n += thread_count()) {
        const T* z = logits + n * K;
        T* p = prob + n * K;
        T m = z[0];
        for (std::size_t k = 1; k < K; ++k) m = (m < z[k]) ? z[k] : m;
        T sum = 0;
        for (std::size_t k = 0; k < K; ++k) sum += (p[k] = exp_(z[k] - m));
        const T log_sum = log_(sum);
        row_value[n] = log_sum - (z[targets[n]] - m);
        for (std::size_t k = 0; k < K; ++k) p[k] = div_rn(p[k], sum);
    }
}
template <class T>
void softmax_xent_forward(const T* logits, const std::int32_t* targets, std::size_t N, std::size_t K, T* prob,
                          T* row_value, cudaStream_t s) {
    if (N == 0 || K == 0) return;
    softmax_xent_forward_kernel<T><<<blocks_for(N), kThreads, 0, s>>>(logits, targets, N, K, prob, row_value);
    ANN_CUDA_CHECK_LAUNCH("softmax_xent_forward_kernel");
}

// grad (N, K) = (prob - onehot(targets)) * inv_n, inv_n = 1/divisor rounded once (as the CPU does).
template <class T>
__global__ void softmax_xent_backward_kernel(const T* __restrict__ prob, const std::int32_t* __restrict__ targets,
                                             std::size_t N, std::size_t K, T inv_n, T* __restrict__ grad) {
    for (std::size_t i = thread_index(); i < N * K; i += thread_count()) {
        const std::size_t n = i / K, k = i % K;
        grad[i] = (prob[i] - (static_cast<std::size_t>(targets[n]) == k ? T(1) : T(0))) * inv_n;
    }
}
template <class T>
void softmax_xent_backward(const T* prob, const std::int32_t* targets, std::size_t N, std::size_t K,
                           std::size_t divisor, T* grad, cudaStream_t s) {
    if (N * K == 0) return;
    const T inv_n = T(1) / static_cast<T>(divisor);
    softmax_xent_backward_kernel<T><<<blocks_for(N * K), kThreads, 0, s>>>(prob, targets, N, K, inv_n, grad);
    ANN_CUDA_CHECK_LAUNCH("softmax_xent_backward_kernel");
}

// ---- optimizers ----

// SGD, PyTorch's rule (Backend::sgd_update, cpu/sgd_update.hpp): d = g (+ wd w); buf null:
// w -= lr d. Else first: buf = d; otherwise buf = mu buf + d; d = nesterov ? d + mu buf : buf;
// w -= lr d. Products rounded before the additions, as in the CPU loops.
template <class T>
__global__ void sgd_update_kernel(T* __restrict__ w, const T* __restrict__ g, T* __restrict__ buf, std::size_t n,
                                  SgdStep<T> h, bool first) {
    for (std::size_t i = thread_index(); i < n; i += thread_count()) {
        T d = g[i];
        if (h.weight_decay != T(0)) d = d + mul_rn(h.weight_decay, w[i]);
        if (buf) {
            const T b = first ? d : mul_rn(h.momentum, buf[i]) + d;
            buf[i] = b;
            d = h.nesterov ? d + mul_rn(h.momentum, b) : b;
        }
        w[i] -= mul_rn(h.lr, d);
    }
}
template <class T>
void sgd_update(T* w, const T* g, T* buf, std::size_t n, const SgdStep<T>& h, bool first, cudaStream_t s) {
    if (n == 0) return;
    sgd_update_kernel<T><<<blocks_for(n), kThreads, 0, s>>>(w, g, buf, n, h, first);
    ANN_CUDA_CHECK_LAUNCH("sgd_update_kernel");
}

// Adam / AdamW, PyTorch's rule (Backend::adam_update), in cpu::adam_update_scalar's expression order:
//   d = g (+ wd w) ; w = decay w (AdamW) ;
//   m = b1 m + (1-b1) d ;  v = b2 v + (1-b2) d d ;  w -= step_size * (m / (sqrt(v) / sqrt_bc2 + eps))
// with the multiply-adds fused exactly where the CPU's AVX-512 kernel fuses them (the L2 term,
// fmadd, fmadd, fnmadd), so the result matches the CPU backend on AVX-512 machines bit for bit.
template <class T>
__global__ void adam_update_kernel(T* __restrict__ w, const T* __restrict__ g, T* __restrict__ m, T* __restrict__ v,
                                   std::size_t n, AdamStep<T> h) {
    const T c1 = T(1) - h.beta1, c2 = T(1) - h.beta2;
    const bool l2 = h.weight_decay != T(0), decoupled = h.decay != T(1);
    for (std::size_t i = thread_index(); i < n; i += thread_count()) {
        T gi = g[i], wi = w[i];
        if (l2) gi = fma_rn(h.weight_decay, wi, gi);
        if (decoupled) wi = mul_rn(wi, h.decay);
        const T mi = fma_rn(h.beta1, m[i], mul_rn(c1, gi));
        const T vi = fma_rn(h.beta2, v[i], mul_rn(mul_rn(c2, gi), gi));
        m[i] = mi;
        v[i] = vi;
        const T den = div_rn(sqrt_rn(vi), h.sqrt_bc2) + h.eps;
        w[i] = fma_rn(-h.step_size, div_rn(mi, den), wi);
    }
}
template <class T>
void adam_update(T* w, const T* g, T* m, T* v, std::size_t n, const AdamStep<T>& h, cudaStream_t s) {
    if (n == 0) return;
    adam_update_kernel<T><<<blocks_for(n), kThreads, 0, s>>>(w, g, m, v, n, h);
    ANN_CUDA_CHECK_LAUNCH("adam_update_kernel");
}

}  // namespace ann::cuda::kernels
