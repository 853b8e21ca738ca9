#pragma once
// The thread count of the CPU backend: our pool's size. OpenBLAS is pinned to one thread,
// because every GEMM is issued from inside a pool thread (see thread_pool.hpp).
//
// Determinism: kernels give every thread a fixed slice and reduce partial sums in a fixed
// order that does not depend on the thread count (conv weight gradients are summed per image,
// in image order), so the same seed gives the same results for any thread count.
#include "ann/backend/cpu/thread_pool.hpp"

extern "C" {
// OpenBLAS's own thread control. Declared here rather than through <cblas.h>, whose enums
// clash with the ones xtensor-blas bundles.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}

namespace ann::cpu {

inline void set_num_threads(int n) {
    openblas_set_num_threads(1);
    ThreadPool::global().resize(n < 1 ? 1 : n);
}
inline int num_threads() { return ThreadPool::global().size(); }

}  // namespace ann::cpu
