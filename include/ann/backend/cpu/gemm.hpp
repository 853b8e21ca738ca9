#pragma once
// Row-major GEMM through xtensor-blas's CBLAS bindings (OpenBLAS underneath):
//   C(M, N) = alpha * op(A) * op(B) + beta * C
// beta = 0 overwrites C, beta = 1 accumulates into it: the caller says which, BLAS-style.
#include <xtensor-blas/xblas.hpp>

extern "C" {
// OpenBLAS's own thread control. Declared here rather than through <cblas.h>, whose enums
// clash with the ones xtensor-blas bundles.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}

namespace ann::cpu {

template <class T>
inline void gemm(bool trans_a, bool trans_b, int M, int N, int K, T alpha, const T* A, int lda,
                 const T* B, int ldb, T beta, T* C, int ldc) {
    cxxblas::gemm(cxxblas::RowMajor, trans_a ? cxxblas::Trans : cxxblas::NoTrans,
                  trans_b ? cxxblas::Trans : cxxblas::NoTrans, M, N, K, alpha, A, lda, B, ldb, beta,
                  C, ldc);
}

// Threads used by BLAS calls. Same thread count + same seed => identical results.
inline void set_num_threads(int n) { openblas_set_num_threads(n < 1 ? 1 : n); }
inline int num_threads() { return openblas_get_num_threads(); }

}  // namespace ann::cpu
