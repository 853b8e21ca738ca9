#pragma once
// Row-major GEMM through xtensor-blas's CBLAS bindings (OpenBLAS underneath):
//   C(M, N) = alpha * op(A) * op(B) + beta * C
// beta = 0 overwrites C, beta = 1 accumulates into it: the caller says which, BLAS-style.
// OpenBLAS runs single-threaded; the kernels call gemm from inside our pool's threads.
#include <xtensor-blas/xblas.hpp>

#include "ann/backend/cpu/threading.hpp"

namespace ann::cpu {

template <class T>
inline void gemm(bool trans_a, bool trans_b, int M, int N, int K, T alpha, const T* A, int lda,
                 const T* B, int ldb, T beta, T* C, int ldc) {
    // Once per process, before the first GEMM: OpenBLAS threads would fight ours.
    static const bool blas_single_threaded = (openblas_set_num_threads(1), true);
    (void)blas_single_threaded;
    cxxblas::gemm(cxxblas::RowMajor, trans_a ? cxxblas::Trans : cxxblas::NoTrans,
                  trans_b ? cxxblas::Trans : cxxblas::NoTrans, M, N, K, alpha, A, lda, B, ldb, beta,
                  C, ldc);
}

}  // namespace ann::cpu
