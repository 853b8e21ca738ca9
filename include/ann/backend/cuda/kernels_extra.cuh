#pragma once
// CUDA kernels of LeakyReLU, average pooling and dropout: the formulas of their CPU counterparts
// (backend/cpu/leaky_relu.hpp, avgpool.hpp, dropout.hpp). Pooling and the dropout hash call the
// very functions the CPU calls (backend/avgpool_windows.hpp, dropout_hash.hpp, compiled for the
// device), so the two backends give the same bits; the conventions of kernels.cuh hold here.
#include <cstddef>
#include <cstdint>

#include "ann/backend/avgpool_windows.hpp"
#include "ann/backend/cuda/kernels.cuh"
#include "ann/backend/dropout_hash.hpp"

namespace ann::cuda::kernels {

// ---- LeakyReLU ----

template <class T>
__global__ void leaky_relu_forward_kernel(const T* __restrict__ x, T* __restrict__ y, std::size_t n, T slope) {
    for (std::size_t i = thread_index(); i < n; i += thread_count()) y[i] = x[i] > T(0) ? x[i] : mul_rn(x[i], slope);
}
template <class T>
__global__ void leaky_relu_backward_kernel(const T* __restrict__ x, const T* __restrict__ dy, T* __restrict__ dx,
                                           std::size_t n, T slope) {
    for (std::size_t i = thread_index(); i < n; i += thread_count())
        dx[i] = x[i] > T(0) ? dy[i] : mul_rn(dy[i], slope);
}
template <class T>
void leaky_relu_forward(const T* x, T* y, std::size_t n, T slope, cudaStream_t s) {
    if (n == 0) return;
    leaky_relu_forward_kernel<T><<<blocks_for(n), kThreads, 0, s>>>(x, y, n, slope);
    ANN_CUDA_CHECK_LAUNCH("leaky_relu_forward_kernel");
}
template <class T>
void leaky_relu_backward(const T* x, const T* dy, T* dx, std::size_t n, T slope, cudaStream_t s) {
    if (n == 0) return;
    leaky_relu_backward_kernel<T><<<blocks_for(n), kThreads, 0, s>>>(x, dy, dx, n, slope);
    ANN_CUDA_CHECK_LAUNCH("leaky_relu_backward_kernel");
}

// ---- average pooling: one thread per output (forward) or per input (backward, a gather) ----

template <class T>
__global__ void avgpool_forward_kernel(const T* __restrict__ x, T* __restrict__ y, std::size_t planes,
                                       AvgPoolGeometry g) {
    const std::size_t HW = std::size_t(g.H) * g.W, OHW = std::size_t(g.OH) * g.OW;
    for (std::size_t o = thread_index(); o < planes * OHW; o += thread_count()) {
        const std::size_t p = o / OHW, r = o % OHW;
        y[o] = shared::avgpool_output(x + p * HW, g, int(r / g.OW), int(r % g.OW));
    }
}
template <class T>
__global__ void avgpool_backward_kernel(const T* __restrict__ dy, T* __restrict__ dx, std::size_t planes,
                                        AvgPoolGeometry g) {
    const std::size_t HW = std::size_t(g.H) * g.W, OHW = std::size_t(g.OH) * g.OW;
    for (std::size_t i = thread_index(); i < planes * HW; i += thread_count()) {
        const std::size_t p = i / HW, r = i % HW;
        dx[i] = shared::avgpool_input_grad(dy + p * OHW, g, int(r / g.W), int(r % g.W));
    }
}
template <class T>
void avgpool_forward(const T* x, T* y, std::size_t planes, const AvgPoolGeometry& g, cudaStream_t s) {
    const std::size_t n = planes * std::size_t(g.OH) * g.OW;
    if (n == 0) return;
    avgpool_forward_kernel<T><<<blocks_for(n), kThreads, 0, s>>>(x, y, planes, g);
    ANN_CUDA_CHECK_LAUNCH("avgpool_forward_kernel");
}
template <class T>
void avgpool_backward(const T* dy, T* dx, std::size_t planes, const AvgPoolGeometry& g, cudaStream_t s) {
    const std::size_t n = planes * std::size_t(g.H) * g.W;
    if (n == 0) return;
    avgpool_backward_kernel<T><<<blocks_for(n), kThreads, 0, s>>>(dy, dx, planes, g);
    ANN_CUDA_CHECK_LAUNCH("avgpool_backward_kernel");
}

// ---- dropout ----

// Every thread decodes seed and counter itself (six cached loads): the host never reads them.
template <class T>
__global__ void dropout_mask_kernel(std::uint8_t* __restrict__ mask, std::size_t n, std::size_t first,
                                    const T* __restrict__ seed,
                                    const T* __restrict__ counter, std::uint64_t keep_below) {
    using namespace shared;
    const std::uint64_t key = dropout_key(decode_pieces(seed, kSeedPieces, kSeedPieceBits),
                                          decode_pieces(counter, kCounterPieces, kCounterPieceBits));
    for (std::size_t i = thread_index(); i < n; i += thread_count()) mask[i] = dropout_keep(key, first + i, keep_below) ? 1 : 0;
}
// Queued after the mask kernel on the same stream, so no thread of that kernel sees the new k.
template <class T>
__global__ void dropout_advance_kernel(T* counter) {
    using namespace shared;
    const std::uint64_t k = decode_pieces(counter, kCounterPieces, kCounterPieceBits);
    encode_pieces((k + 1) % kCounterPeriod, counter, kCounterPieces, kCounterPieceBits);
}
template <class T>
__global__ void dropout_apply_kernel(const T* __restrict__ x, const std::uint8_t* __restrict__ mask, T scale,
                                     T* __restrict__ y, std::size_t n) {
    for (std::size_t i = thread_index(); i < n; i += thread_count()) y[i] = mul_rn(x[i], mask[i] ? scale : T(0));
}
template <class T>
void dropout_mask(std::uint8_t* mask, std::size_t n, std::size_t first, const T* seed, T* counter,
                  std::uint64_t keep_below,
                  cudaStream_t s) {
    if (n > 0) {
        dropout_mask_kernel<T><<<blocks_for(n), kThreads, 0, s>>>(mask, n, first, seed, counter, keep_below);
        ANN_CUDA_CHECK_LAUNCH("dropout_mask_kernel");
    }
    dropout_advance_kernel<T><<<1, 1, 0, s>>>(counter);
    ANN_CUDA_CHECK_LAUNCH("dropout_advance_kernel");
}
template <class T>
void dropout_apply(const T* x, const std::uint8_t* mask, T scale, T* y, std::size_t n, cudaStream_t s) {
    if (n == 0) return;
    dropout_apply_kernel<T><<<blocks_for(n), kThreads, 0, s>>>(x, mask, scale, y, n);
    ANN_CUDA_CHECK_LAUNCH("dropout_apply_kernel");
}

}  // namespace ann::cuda::kernels
