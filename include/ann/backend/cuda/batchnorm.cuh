#pragma once
// Batch normalisation kernels (Backend::batchnorm_*), our own rather than cuDNN's: they follow
// cpu/batchnorm.hpp's summation order and per-element expressions exactly, in double, so both
// backends compute the same statistics and, with the products written mul_rn (never contracted
// into an FMA, as the x86-64-v2 CPU build never does either), the same outputs; cuDNN's
// batch norm sums in float in an order of its own.
//   plane sums   8 threads per (n, c) plane: thread j adds the terms at i = j (mod 8) in
//                increasing i (the CPU's accumulator a_j), then a butterfly over the 8 lanes
//                forms ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) (+ is commutative, so
//                every lane's order of operands gives the same bits);
//   channel sums one thread per channel adds the N plane sums in image order;
//   elementwise  one thread per element.
// No atomics: deterministic. x, y, dy, dx are (N, C, HW), the rest (C); see backend.hpp.
#include <cstddef>

#include "ann/backend/cuda/check.hpp"
#include "ann/backend/cuda/kernels.cuh"

namespace ann::cuda::kernels {

constexpr unsigned kBatchNormLanes = 8;

enum class BnTerm {
    value,           // a
    centred_square,  // (a - mean)^2
    centred_product  // b * (a - mean)      (a = x, b = dy)
};

// partial[p] = the plane sum of plane p = n*C + c.
template <BnTerm term, class T>
__global__ void batchnorm_plane_sums_kernel(const T* __restrict__ a, const T* __restrict__ b,
                                            const double* __restrict__ mean, double* __restrict__ partial,
                                            std::size_t planes, std::size_t C, std::size_t HW) {
    const unsigned lane = threadIdx.x % kBatchNormLanes;
    const unsigned group = 0xffu << (threadIdx.x & 24u);  // this plane's 8 lanes in the warp
    const std::size_t stride = thread_count() / kBatchNormLanes;
    for (std::size_t p = thread_index() / kBatchNormLanes; p < planes; p += stride) {  // uniform in the group
        const double mu = term == BnTerm::value ? 0.0 : mean[p % C];
        const T* ap = a + p * HW;
        const T* bp = term == BnTerm::centred_product ? b + p * HW : nullptr;
        double acc = 0;
        for (std::size_t i = lane; i < HW; i += kBatchNormLanes) {
            if (term == BnTerm::value) {
                acc += double(ap[i]);
            } else if (term == BnTerm::centred_square) {
                const double d = double(ap[i]) - mu;
                acc += mul_rn(d, d);
            } else {
                acc += mul_rn(double(bp[i]), double(ap[i]) - mu);
            }
        }
        acc += __shfl_xor_sync(group, acc, 1);
        acc += __shfl_xor_sync(group, acc, 2);
        acc += __shfl_xor_sync(group, acc, 4);
        if (lane == 0) partial[p] = acc;
    }
}

template <BnTerm term, class T>
void batchnorm_plane_sums(const T* a, const T* b, const double* mean, double* partial, std::size_t N, std::size_t C,
                          std::size_t HW, cudaStream_t s) {
    const std::size_t planes = N * C;
    batchnorm_plane_sums_kernel<term, T>
        <<<blocks_for(planes * kBatchNormLanes), kThreads, 0, s>>>(a, b, mean, partial, planes, C, HW);
    ANN_CUDA_CHECK_LAUNCH("batchnorm_plane_sums_kernel");
}

// The channel sum: ((0 + partial[c]) + partial[C + c]) + ..., in image order.
__device__ inline double batchnorm_channel_total(const double* partial, std::size_t N, std::size_t C, std::size_t c) {
    double s = 0;
    for (std::size_t n = 0; n < N; ++n) s += partial[n * C + c];
    return s;
}

template <class Unused = void>  // a template, so that several .cu files of a program may include this
__global__ void batchnorm_mean_kernel(const double* __restrict__ partial, double* __restrict__ mean, std::size_t N,
                                      std::size_t C, double M) {
    for (std::size_t c = thread_index(); c < C; c += thread_count())
        mean[c] = div_rn(batchnorm_channel_total(partial, N, C, c), M);
}

// invstd and the running statistics from the centred squares' sums.
template <class T>
__global__ void batchnorm_variance_kernel(const double* __restrict__ partial, const double* __restrict__ mean,
                                          double* __restrict__ invstd, T* __restrict__ running_mean,
                                          T* __restrict__ running_var, std::size_t N, std::size_t C, double M,
                                          double eps, double momentum) {
    for (std::size_t c = thread_index(); c < C; c += thread_count()) {
        const double sq = batchnorm_channel_total(partial, N, C, c);
        invstd[c] = div_rn(1.0, sqrt_rn(div_rn(sq, M) + eps));
        running_mean[c] = static_cast<T>(mul_rn(momentum, mean[c]) + mul_rn(1.0 - momentum, double(running_mean[c])));
        running_var[c] =
            static_cast<T>(mul_rn(momentum, div_rn(sq, M - 1.0)) + mul_rn(1.0 - momentum, double(running_var[c])));
    }
}

template <class T>
__global__ void batchnorm_running_stats_kernel(const T* __restrict__ running_mean, const T* __restrict__ running_var,
                                               double* __restrict__ mean, double* __restrict__ invstd, std::size_t C,
                                               double eps) {
    for (std::size_t c = thread_index(); c < C; c += thread_count()) {
        mean[c] = double(running_mean[c]);
        invstd[c] = div_rn(1.0, sqrt_rn(double(running_var[c]) + eps));
    }
}

template <class T>
__device__ inline double batchnorm_scale(const T* gamma, const double* invstd, std::size_t c) {
    return gamma ? mul_rn(invstd[c], double(gamma[c])) : invstd[c];
}

// y = (x - mean) * (invstd * gamma) + beta
template <class T>
__global__ void batchnorm_normalize_kernel(const T* __restrict__ x, const T* __restrict__ gamma,
                                           const T* __restrict__ beta, const double* __restrict__ mean,
                                           const double* __restrict__ invstd, T* __restrict__ y, std::size_t n,
                                           std::size_t C, std::size_t HW) {
    for (std::size_t i = thread_index(); i < n; i += thread_count()) {
        const std::size_t c = (i / HW) % C;
        const double shift = beta ? double(beta[c]) : 0.0;
        y[i] = static_cast<T>(mul_rn(double(x[i]) - mean[c], batchnorm_scale(gamma, invstd, c)) + shift);
    }
}

template <class T>
void batchnorm_normalize(const T* x, const T* gamma, const T* beta, const double* mean, const double* invstd, T* y,
                         std::size_t N, std::size_t C, std::size_t HW, cudaStream_t s) {
    const std::size_t n = N * C * HW;
    if (n == 0) return;
    batchnorm_normalize_kernel<T><<<blocks_for(n), kThreads, 0, s>>>(x, gamma, beta, mean, invstd, y, n, C, HW);
    ANN_CUDA_CHECK_LAUNCH("batchnorm_normalize_kernel");
}

// partial: N*C doubles of scratch.
template <class T>
void batchnorm_forward_train(const T* x, const T* gamma, const T* beta, T* y, double* mean, double* invstd,
                             T* running_mean, T* running_var, std::size_t N, std::size_t C, std::size_t HW,
                             double eps, double momentum, double* partial, cudaStream_t s) {
    if (C == 0) return;
    const double M = double(N * HW);
    batchnorm_plane_sums<BnTerm::value, T>(x, nullptr, nullptr, partial, N, C, HW, s);
    batchnorm_mean_kernel<><<<blocks_for(C), kThreads, 0, s>>>(partial, mean, N, C, M);
    ANN_CUDA_CHECK_LAUNCH("batchnorm_mean_kernel");
    batchnorm_plane_sums<BnTerm::centred_square, T>(x, nullptr, mean, partial, N, C, HW, s);
    batchnorm_variance_kernel<T><<<blocks_for(C), kThreads, 0, s>>>(partial, mean, invstd, running_mean, running_var,
                                                                    N, C, M, eps, momentum);
    ANN_CUDA_CHECK_LAUNCH("batchnorm_variance_kernel");
    batchnorm_normalize(x, gamma, beta, mean, invstd, y, N, C, HW, s);
}

template <class T>
void batchnorm_forward_eval(const T* x, const T* gamma, const T* beta, const T* running_mean, const T* running_var,
                            T* y, double* mean, double* invstd, std::size_t N, std::size_t C, std::size_t HW,
                            double eps, cudaStream_t s) {
    if (C == 0) return;
    batchnorm_running_stats_kernel<T><<<blocks_for(C), kThreads, 0, s>>>(running_mean, running_var, mean, invstd, C, eps);
    ANN_CUDA_CHECK_LAUNCH("batchnorm_running_stats_kernel");
    batchnorm_normalize(x, gamma, beta, mean, invstd, y, N, C, HW, s);
}

// dgamma += dot * invstd, dbeta += sum_dy; coef[2c] = sum_dy / M, coef[2c+1] = dot invstd^2 / M.
template <class T>
__global__ void batchnorm_backward_channel_kernel(const double* __restrict__ partial_dy,
                                                  const double* __restrict__ partial_dot,
                                                  const double* __restrict__ invstd, T* __restrict__ dgamma,
                                                  T* __restrict__ dbeta, double* __restrict__ coef, std::size_t N,
                                                  std::size_t C, double M) {
    for (std::size_t c = thread_index(); c < C; c += thread_count()) {
        const double sum_dy = batchnorm_channel_total(partial_dy, N, C, c);
        const double dot = batchnorm_channel_total(partial_dot, N, C, c);
        const double is = invstd[c];
        if (dgamma) dgamma[c] += static_cast<T>(mul_rn(dot, is));
        if (dbeta) dbeta[c] += static_cast<T>(sum_dy);
        coef[2 * c] = div_rn(sum_dy, M);
        coef[2 * c + 1] = div_rn(mul_rn(mul_rn(dot, is), is), M);
    }
}

// batch_stats: dx = ((dy - mean_dy) - (x - mean) k) * scale; otherwise dx = dy * scale.
template <class T>
__global__ void batchnorm_backward_data_kernel(const T* __restrict__ x, const T* __restrict__ dy,
                                               const T* __restrict__ gamma, const double* __restrict__ mean,
                                               const double* __restrict__ invstd, const double* __restrict__ coef,
                                               T* __restrict__ dx, std::size_t n, std::size_t C, std::size_t HW,
                                               bool batch_stats) {
    for (std::size_t i = thread_index(); i < n; i += thread_count()) {
        const std::size_t c = (i / HW) % C;
        const double scale = batchnorm_scale(gamma, invstd, c);
        const double g = double(dy[i]);
        dx[i] = static_cast<T>(batch_stats ? mul_rn((g - coef[2 * c]) - mul_rn(double(x[i]) - mean[c], coef[2 * c + 1]),
                                                    scale)
                                           : mul_rn(g, scale));
    }
}

// scratch: 2*N*C + 2*C doubles.
template <class T>
void batchnorm_backward(const T* x, const T* dy, const T* gamma, const double* mean, const double* invstd, T* dx,
                        T* dgamma, T* dbeta, std::size_t N, std::size_t C, std::size_t HW, bool batch_stats,
                        double* scratch, cudaStream_t s) {
    if (C == 0) return;
    double* partial_dy = scratch;
    double* partial_dot = scratch + N * C;
    double* coef = scratch + 2 * N * C;
    const double M = double(N * HW);
    batchnorm_plane_sums<BnTerm::value, T>(dy, nullptr, nullptr, partial_dy, N, C, HW, s);
    batchnorm_plane_sums<BnTerm::centred_product, T>(x, dy, mean, partial_dot, N, C, HW, s);
    batchnorm_backward_channel_kernel<T>
        <<<blocks_for(C), kThreads, 0, s>>>(partial_dy, partial_dot, invstd, dgamma, dbeta, coef, N, C, M);
    ANN_CUDA_CHECK_LAUNCH("batchnorm_backward_channel_kernel");
    const std::size_t n = N * C * HW;
    if (!dx || n == 0) return;
    batchnorm_backward_data_kernel<T>
        <<<blocks_for(n), kThreads, 0, s>>>(x, dy, gamma, mean, invstd, coef, dx, n, C, HW, batch_stats);
    ANN_CUDA_CHECK_LAUNCH("batchnorm_backward_data_kernel");
}

}  // namespace ann::cuda::kernels
