#pragma once
// Batch normalisation on the CPU (see Backend::batchnorm_forward_train for the contract).
// x, y, dy, dx are (N, C, HW); statistics are per channel c over its M = N*HW values.
//
// Numerics. Statistics are sums in double of values converted from T, and the variance is the
// mean of the CENTRED squares (a second pass over x): the one-pass E[x^2] - E[x]^2 cancels
// catastrophically when |mean| >> std (activations around 1000 with std 1 leave nothing of
// float32's 24 bits, and can come out negative), while a double sum of M float terms is off by
// about M * 2^-53 relative, far below float32's rounding for any batch that fits in memory.
// Every per-element expression is evaluated in double and rounded to T once.
//
// Order (fixed, so the result is the same for any thread count, and the CUDA kernels in
// cuda/kernels.cuh follow it to get the same statistics):
//   plane sum   S(n, c) = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)),
//               a_j = the terms of plane (n, c) at positions i = j (mod 8), added in increasing i
//   channel sum (((0 + S(0, c)) + S(1, c)) + ...) + S(N-1, c)
// Eight lanes give the adds independent chains (a single double accumulator is bound by the
// add latency). Threads take whole channels: nothing is shared between them.
#include <cmath>
#include <cstddef>

#include "ann/backend/cpu/activations.hpp"
#include "ann/backend/cpu/thread_pool.hpp"

namespace ann::cpu {

constexpr std::size_t kBatchNormLanes = 8;

// The plane sum S of term(i) for i in [0, HW), in the order above.
template <class F>
double batchnorm_plane_sum(std::size_t HW, F&& term) {
    double a[kBatchNormLanes] = {};
    std::size_t i = 0;
    for (; i + kBatchNormLanes <= HW; i += kBatchNormLanes)
        for (std::size_t j = 0; j < kBatchNormLanes; ++j) a[j] += term(i + j);
    for (std::size_t j = 0; i < HW; ++i, ++j) a[j] += term(i);
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

// The channel sum of term(plane, i) over the N planes of channel c.
template <class F>
double batchnorm_channel_sum(std::size_t N, std::size_t C, std::size_t HW, std::size_t c, F&& term) {
    double s = 0;
    for (std::size_t n = 0; n < N; ++n) {
        const std::size_t base = (n * C + c) * HW;
        s += batchnorm_plane_sum(HW, [&](std::size_t i) { return term(base + i); });
    }
    return s;
}

// f(c) for every channel; channels split over the pool's threads (small tensors: one thread).
template <class F>
void batchnorm_for_channels(std::size_t N, std::size_t C, std::size_t HW, F&& f) {
    const std::size_t min_channels = N * C * HW < kMinParallelElementwise ? C + 1 : 2;
    parallel_for(C, [&](std::size_t lo, std::size_t hi) {
        for (std::size_t c = lo; c < hi; ++c) f(c);
    }, min_channels);
}

// y = (x - mean) * (invstd * gamma) + beta over channel c.
template <class T>
void batchnorm_normalize_channel(const T* x, const T* gamma, const T* beta, T* y, double mean, double invstd,
                                 std::size_t N, std::size_t C, std::size_t HW, std::size_t c) {
    const double scale = gamma ? invstd * double(gamma[c]) : invstd;
    const double shift = beta ? double(beta[c]) : 0.0;
    for (std::size_t n = 0; n < N; ++n) {
        const std::size_t base = (n * C + c) * HW;
        for (std::size_t i = base; i < base + HW; ++i) y[i] = static_cast<T>((double(x[i]) - mean) * scale + shift);
    }
}

template <class T>
void batchnorm_forward_train(const T* x, const T* gamma, const T* beta, T* y, double* mean, double* invstd,
                             T* running_mean, T* running_var, std::size_t N, std::size_t C, std::size_t HW,
                             double eps, double momentum) {
    const double M = double(N * HW);
    batchnorm_for_channels(N, C, HW, [&](std::size_t c) {
        const double mu = batchnorm_channel_sum(N, C, HW, c, [&](std::size_t i) { return double(x[i]); }) / M;
        const double sq = batchnorm_channel_sum(N, C, HW, c, [&](std::size_t i) {
            const double d = double(x[i]) - mu;
            return d * d;
        });
        const double is = 1.0 / std::sqrt(sq / M + eps);
        mean[c] = mu;
        invstd[c] = is;
        running_mean[c] = static_cast<T>(momentum * mu + (1.0 - momentum) * double(running_mean[c]));
        running_var[c] = static_cast<T>(momentum * (sq / (M - 1.0)) + (1.0 - momentum) * double(running_var[c]));
        batchnorm_normalize_channel(x, gamma, beta, y, mu, is, N, C, HW, c);
    });
}

template <class T>
void batchnorm_forward_eval(const T* x, const T* gamma, const T* beta, const T* running_mean, const T* running_var,
                            T* y, double* mean, double* invstd, std::size_t N, std::size_t C, std::size_t HW,
                            double eps) {
    batchnorm_for_channels(N, C, HW, [&](std::size_t c) {
        mean[c] = double(running_mean[c]);
        invstd[c] = 1.0 / std::sqrt(double(running_var[c]) + eps);
        batchnorm_normalize_channel(x, gamma, beta, y, mean[c], invstd[c], N, C, HW, c);
    });
}

template <class T>
void batchnorm_backward(const T* x, const T* dy, const T* gamma, const double* mean, const double* invstd, T* dx,
                        T* dgamma, T* dbeta, std::size_t N, std::size_t C, std::size_t HW, bool batch_stats) {
    const double M = double(N * HW);
    batchnorm_for_channels(N, C, HW, [&](std::size_t c) {
        const double mu = mean[c], is = invstd[c];
        const double sum_dy = batchnorm_channel_sum(N, C, HW, c, [&](std::size_t i) { return double(dy[i]); });
        const double dot =
            batchnorm_channel_sum(N, C, HW, c, [&](std::size_t i) { return double(dy[i]) * (double(x[i]) - mu); });
        if (dgamma) dgamma[c] += static_cast<T>(dot * is);
        if (dbeta) dbeta[c] += static_cast<T>(sum_dy);
        if (!dx) return;
        const double scale = gamma ? is * double(gamma[c]) : is;
        const double mean_dy = sum_dy / M, k = dot * is * is / M;
        for (std::size_t n = 0; n < N; ++n) {
            const std::size_t base = (n * C + c) * HW;
            if (batch_stats)
                for (std::size_t i = base; i < base + HW; ++i)
                    dx[i] = static_cast<T>((double(dy[i]) - mean_dy - (double(x[i]) - mu) * k) * scale);
            else
                for (std::size_t i = base; i < base + HW; ++i) dx[i] = static_cast<T>(double(dy[i]) * scale);
        }
    });
}

}  // namespace ann::cpu
