#pragma once
// The CUDA backend's own kernels, for what cuDNN and cuBLAS do not cover: bias broadcast,
// fused softmax + cross-entropy (loss, gradient, correct count in one pass), deterministic
// reductions, SGD and Adam updates, and the uint8 -> float batch gather.
// Kernels are templates so that this header can be included by several .cu files of one program.
// Every launcher enqueues on the given stream and checks the launch.
#include <cmath>
#include <cstdint>

#include "ann/backend/cuda/check.hpp"

namespace ann::cuda::kernels {

constexpr int kThreads = 256;
inline int blocks_for(std::size_t n, int threads = kThreads) {
    const std::size_t b = (n + threads - 1) / threads;
    return static_cast<int>(b < 65535 * 8 ? (b == 0 ? 1 : b) : 65535 * 8);
}

// y is (N, F): every row = b.
template <class T>
__global__ void broadcast_rows_kernel(T* y, const T* b, std::size_t N, std::size_t F) {
    for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < N * F; i += std::size_t(gridDim.x) * blockDim.x)
        y[i] = b[i % F];
}
template <class T>
void broadcast_rows(T* y, const T* b, std::size_t N, std::size_t F, cudaStream_t s) {
    broadcast_rows_kernel<T><<<blocks_for(N * F), kThreads, 0, s>>>(y, b, N, F);
    ANN_CUDA_CHECK_LAUNCH("broadcast_rows_kernel");
}

// logits is (N, K), targets has N entries. One warp per row:
//   row_loss[n] = log(sum_k exp(z_k - max)) - (z_t - max)
//   grad[n, k]  = (softmax_k - [k == t]) * inv_n        (skipped when grad is null)
//   row_correct[n] = [argmax_k z_k == t]                 (first maximum on ties, as torch.argmax)
// A target outside [0, K) sets *bad = 1 and makes that row's loss NaN.
template <class T>
__global__ void softmax_xent_kernel(const T* logits, const int* targets, int N, int K, T inv_n, T* grad,
                                    T* row_loss, int* row_correct, int* bad) {
    const int row = static_cast<int>((blockIdx.x * std::size_t(blockDim.x) + threadIdx.x) / 32);
    const int lane = threadIdx.x & 31;
    if (row >= N) return;  // uniform per warp
    const T* z = logits + std::size_t(row) * K;
    const int t = targets[row];
    T m = -INFINITY;
    int am = 0x7fffffff;
    for (int k = lane; k < K; k += 32) {
        const T v = z[k];
        if (am == 0x7fffffff || v > m) m = v, am = k;
    }
    for (int off = 16; off > 0; off >>= 1) {
        const T om = __shfl_xor_sync(0xffffffffu, m, off);
        const int oam = __shfl_xor_sync(0xffffffffu, am, off);
        if (oam != 0x7fffffff && (am == 0x7fffffff || om > m || (om == m && oam < am))) m = om, am = oam;
    }
    T sum = 0;
    for (int k = lane; k < K; k += 32) sum += exp(z[k] - m);
    for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
    const bool valid = t >= 0 && t < K;
    if (lane == 0) {
        if (!valid) atomicExch(bad, 1);
        row_loss[row] = valid ? log(sum) - (z[t] - m) : T(NAN);
        row_correct[row] = valid && am == t ? 1 : 0;
    }
    if (grad) {
        T* g = grad + std::size_t(row) * K;
        for (int k = lane; k < K; k += 32)
            g[k] = valid ? (exp(z[k] - m) / sum - (k == t ? T(1) : T(0))) * inv_n : T(0);
    }
}

// One block, fixed summation order (deterministic):
//   *loss_mean = sum(row_loss) / N ; *correct = sum(row_correct)
//   and, when given, *loss_total += sum(row_loss), *correct_total += sum(row_correct).
template <class T>
__global__ void reduce_loss_kernel(const T* row_loss, const int* row_correct, int N, T* loss_mean, int* correct,
                                   double* loss_total, unsigned long long* correct_total) {
    __shared__ double s_loss[kThreads];
    __shared__ long long s_corr[kThreads];
    double l = 0;
    long long c = 0;
    for (int i = threadIdx.x; i < N; i += blockDim.x) l += static_cast<double>(row_loss[i]), c += row_correct[i];
    s_loss[threadIdx.x] = l;
    s_corr[threadIdx.x] = c;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) s_loss[threadIdx.x] += s_loss[threadIdx.x + w], s_corr[threadIdx.x] += s_corr[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        if (loss_mean) *loss_mean = static_cast<T>(s_loss[0] / N);
        if (correct) *correct = static_cast<int>(s_corr[0]);
        if (loss_total) *loss_total += s_loss[0];
        if (correct_total) *correct_total += static_cast<unsigned long long>(s_corr[0]);
    }
}

template <class T>
void softmax_xent(const T* logits, const int* targets, int N, int K, T* grad, T* row_loss, int* row_correct,
                  int* bad, T* loss_mean, int* correct, double* loss_total, unsigned long long* correct_total,
                  cudaStream_t s) {
    const int warps_per_block = kThreads / 32;
    softmax_xent_kernel<T><<<(N + warps_per_block - 1) / warps_per_block, kThreads, 0, s>>>(
        logits, targets, N, K, T(1) / T(N), grad, row_loss, row_correct, bad);
    ANN_CUDA_CHECK_LAUNCH("softmax_xent_kernel");
    reduce_loss_kernel<T><<<1, kThreads, 0, s>>>(row_loss, row_correct, N, loss_mean, correct, loss_total, correct_total);
    ANN_CUDA_CHECK_LAUNCH("reduce_loss_kernel");
}

// SGD, PyTorch's rule (the momentum buffer starts at zero, so its first update equals g):
//   b <- mu b + g ; w <- w - lr b         (mu = 0 and no buffer: w <- w - lr g)
// lr is read from device memory so that a captured graph follows set_lr.
template <class T>
__global__ void sgd_kernel(T* w, const T* g, T* buf, std::size_t n, T mu, const double* lr) {
    const T step = static_cast<T>(*lr);
    for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n; i += std::size_t(gridDim.x) * blockDim.x) {
        if (buf) {
            const T b = mu * buf[i] + g[i];
            buf[i] = b;
            w[i] -= step * b;
        } else {
            w[i] -= step * g[i];
        }
    }
}
template <class T>
void sgd_update(T* w, const T* g, T* buf, std::size_t n, T mu, const double* lr, cudaStream_t s) {
    sgd_kernel<T><<<blocks_for(n), kThreads, 0, s>>>(w, g, buf, n, mu, lr);
    ANN_CUDA_CHECK_LAUNCH("sgd_kernel");
}

// Adam's step-dependent scalars live on the device, advanced by a one-thread kernel, so a
// captured training step stays correct on every replay.
struct AdamState {
    double lr, beta1, beta2;
    long long t;
    float step_size, sqrt_bc2;
};
template <class T = float>
__global__ void adam_advance_kernel(AdamState* s) {
    s->t += 1;
    const double bc1 = 1.0 - pow(s->beta1, static_cast<double>(s->t));
    const double bc2 = 1.0 - pow(s->beta2, static_cast<double>(s->t));
    s->step_size = static_cast<float>(s->lr / bc1);
    s->sqrt_bc2 = static_cast<float>(sqrt(bc2));
}
// PyTorch's rule: m <- b1 m + (1-b1) g ; v <- b2 v + (1-b2) g^2 ;
//                 w <- w - step_size * m / (sqrt(v) / sqrt(bc2) + eps)
template <class T>
__global__ void adam_kernel(T* w, const T* g, T* m, T* v, std::size_t n, T b1, T b2, T eps, const AdamState* s) {
    const T step = static_cast<T>(s->step_size), sqrt_bc2 = static_cast<T>(s->sqrt_bc2);
    for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n; i += std::size_t(gridDim.x) * blockDim.x) {
        const T gi = g[i];
        const T mi = b1 * m[i] + (T(1) - b1) * gi;
        const T vi = b2 * v[i] + (T(1) - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] -= step * (mi / (sqrt(vi) / sqrt_bc2 + eps));
    }
}
inline void adam_advance(AdamState* s, cudaStream_t stream) {
    adam_advance_kernel<float><<<1, 1, 0, stream>>>(s);
    ANN_CUDA_CHECK_LAUNCH("adam_advance_kernel");
}
template <class T>
void adam_update(T* w, const T* g, T* m, T* v, std::size_t n, T b1, T b2, T eps, const AdamState* s, cudaStream_t stream) {
    adam_kernel<T><<<blocks_for(n), kThreads, 0, stream>>>(w, g, m, v, n, b1, b2, eps, s);
    ANN_CUDA_CHECK_LAUNCH("adam_kernel");
}

// Batch gather and conversion. images is (count, C, H, W) uint8, labels (count,).
// For b in [0, B): i = order[*offset + b] (offset may be null: 0)
//   x[b, c, :, :] = images[i, c, :, :] * scale[c] + shift[c] ;  targets[b] = labels[i]
template <class T>
__global__ void gather_u8_kernel(const std::uint8_t* images, const std::uint8_t* labels, const int* order,
                                 const int* offset, int B, int C, int HW, const T* scale, const T* shift, T* x,
                                 int* targets) {
    const int base = offset ? *offset : 0;
    const std::size_t per = std::size_t(C) * HW, total = per * B;
    for (std::size_t j = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; j < total; j += std::size_t(gridDim.x) * blockDim.x) {
        const std::size_t b = j / per, r = j % per;
        const int c = static_cast<int>(r / HW);
        const std::size_t i = static_cast<std::size_t>(order[base + b]);
        x[j] = static_cast<T>(images[i * per + r]) * scale[c] + shift[c];
        if (r == 0) targets[b] = labels[i];
    }
}
template <class T>
void gather_u8(const std::uint8_t* images, const std::uint8_t* labels, const int* order, const int* offset, int B,
               int C, int HW, const T* scale, const T* shift, T* x, int* targets, cudaStream_t s) {
    gather_u8_kernel<T><<<blocks_for(std::size_t(B) * C * HW), kThreads, 0, s>>>(images, labels, order, offset, B, C, HW,
                                                                                 scale, shift, x, targets);
    ANN_CUDA_CHECK_LAUNCH("gather_u8_kernel");
}

// After a training step: history[*step] = (*loss, *correct); ++*step; *offset += batch.
template <class T>
__global__ void record_step_kernel(const T* loss, const int* correct, T* loss_history, int* correct_history,
                                   int capacity, int* step, int* offset, int batch) {
    const int s = *step;
    if (s < capacity) loss_history[s] = *loss, correct_history[s] = *correct;
    *step = s + 1;
    *offset += batch;
}
template <class T>
void record_step(const T* loss, const int* correct, T* loss_history, int* correct_history, int capacity, int* step,
                 int* offset, int batch, cudaStream_t s) {
    record_step_kernel<T><<<1, 1, 0, s>>>(loss, correct, loss_history, correct_history, capacity, step, offset, batch);
    ANN_CUDA_CHECK_LAUNCH("record_step_kernel");
}

}  // namespace ann::cuda::kernels
