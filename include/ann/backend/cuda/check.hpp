#pragma once
// Every CUDA runtime, cuDNN and cuBLAS return code goes through one of these macros. A failure
// throws ann::Error naming the library, the call as written, the library's own message and
// file:line, e.g.
//   CUDA call cudaMalloc(&p, bytes) failed: out of memory (2) at context.hpp:40
// so a failure on a GPU machine can be traced to one line without a debugger. cuDNN 9 keeps a
// detailed reason for its last failure (which attribute was wrong, which engine refused); it is
// appended when there is one.
// Destructors use ANN_CUDA_NOTHROW instead: they must not throw, and a failed free during
// program teardown (driver already unloaded) is not actionable.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <string>

#include "ann/core/error.hpp"

namespace ann::cuda::detail {

[[noreturn]] inline void throw_failed(const char* library, const char* call, const char* message, int code,
                                      const char* file, int line, const std::string& detail = {}) {
    if (detail.empty()) fail(library, " call ", call, " failed: ", message, " (", code, ") at ", file, ':', line);
    fail(library, " call ", call, " failed: ", message, " (", code, ") at ", file, ':', line, " [", detail, ']');
}

// cuDNN's description of its last error on this thread (empty when it has none).
inline std::string cudnn_last_error() {
    char buf[1024] = {};
    cudnnGetLastErrorString(buf, sizeof(buf));
    return std::string(buf);
}

}  // namespace ann::cuda::detail

#define ANN_CUDA_CHECK(call)                                                                      \
    do {                                                                                          \
        const cudaError_t ann_status_ = (call);                                                   \
        if (ann_status_ != cudaSuccess) {                                                         \
            static_cast<void>(cudaGetLastError()); /* not left for a later launch check */        \
            ::ann::cuda::detail::throw_failed("CUDA", #call, cudaGetErrorString(ann_status_),     \
                                              static_cast<int>(ann_status_), __FILE__, __LINE__); \
        }                                                                                         \
    } while (0)

#define ANN_CUDNN_CHECK(call)                                                                     \
    do {                                                                                          \
        const cudnnStatus_t ann_status_ = (call);                                                 \
        if (ann_status_ != CUDNN_STATUS_SUCCESS)                                                  \
            ::ann::cuda::detail::throw_failed("cuDNN", #call, cudnnGetErrorString(ann_status_),   \
                                              static_cast<int>(ann_status_), __FILE__, __LINE__,  \
                                              ::ann::cuda::detail::cudnn_last_error());           \
    } while (0)

#define ANN_CUBLAS_CHECK(call)                                                                    \
    do {                                                                                          \
        const cublasStatus_t ann_status_ = (call);                                                \
        if (ann_status_ != CUBLAS_STATUS_SUCCESS)                                                 \
            ::ann::cuda::detail::throw_failed("cuBLAS", #call, cublasGetStatusString(ann_status_), \
                                              static_cast<int>(ann_status_), __FILE__, __LINE__); \
    } while (0)

// After a kernel launch: launch errors (bad configuration, no device) surface here, named after
// the kernel rather than as a later, unrelated call's failure.
#define ANN_CUDA_CHECK_LAUNCH(kernel_name)                                                        \
    do {                                                                                          \
        const cudaError_t ann_status_ = cudaGetLastError();                                       \
        if (ann_status_ != cudaSuccess)                                                           \
            ::ann::cuda::detail::throw_failed("CUDA", "launch of " kernel_name,                   \
                                              cudaGetErrorString(ann_status_),                    \
                                              static_cast<int>(ann_status_), __FILE__, __LINE__); \
    } while (0)

#define ANN_CUDA_NOTHROW(call) static_cast<void>(call)
