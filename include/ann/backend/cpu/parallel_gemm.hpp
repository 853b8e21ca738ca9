#pragma once
// A GEMM large enough to share: C is cut into fixed blocks (8 rows, or 128 columns when C is
// wider than tall), and the pool's threads take whole blocks, each one OpenBLAS call with the
// full K. The blocks depend only on M, N and K, never on the thread count, and every element of
// C is summed by one call over the same K in the same order, so the result is the same bits for
// any number of threads (and for any scheduling). The Linear layer's GEMMs go through here; the
// convolutions already hand whole images to the threads and call gemm() inside them.
//   C(M, N) = alpha * op(A) * op(B) + beta * C, row-major, as gemm() in gemm.hpp.
#include <algorithm>
#include <cstddef>

#include "ann/backend/cpu/gemm.hpp"
#include "ann/backend/cpu/thread_pool.hpp"

namespace ann::cpu {

// Below this many multiply-adds the GEMM stays one call: a parallel region costs a few
// microseconds and each block packs the shared operand again. The threshold keeps the MLPs' small
// layers (32->10, 32->64: at most 100*64*32 = 205k) whole and splits the 3072-wide ones (4.9M+).
inline constexpr double kParallelGemmMinMacs = 1 << 18;

template <class T>
void parallel_gemm(bool trans_a, bool trans_b, int M, int N, int K, T alpha, const T* A, int lda, const T* B, int ldb,
                   T beta, T* C, int ldc) {
    if (double(M) * N * K < kParallelGemmMinMacs) {
        gemm<T>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    // 8 rows is a multiple of OpenBLAS's N-unroll (row-major C is its column-major C^T), 128
    // columns of its M-unroll: whole micro-tiles, so the blocks run at the full-call rate.
    const bool by_rows = M >= N;
    const int block = by_rows ? 8 : 128;
    const int extent = by_rows ? M : N;
    const std::size_t blocks = std::size_t((extent + block - 1) / block);
    parallel_items(blocks, [&](int, std::size_t i) {
        const int lo = int(i) * block, n = std::min(block, extent - lo);
        if (by_rows) {  // rows lo.. of op(A) and of C
            const T* a = trans_a ? A + lo : A + std::size_t(lo) * lda;
            gemm<T>(trans_a, trans_b, n, N, K, alpha, a, lda, B, ldb, beta, C + std::size_t(lo) * ldc, ldc);
        } else {  // columns lo.. of op(B) and of C
            const T* b = trans_b ? B + std::size_t(lo) * ldb : B + lo;
            gemm<T>(trans_a, trans_b, M, n, K, alpha, A, lda, b, ldb, beta, C + lo, ldc);
        }
    });
}

}  // namespace ann::cpu
