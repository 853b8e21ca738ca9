// The CUDA backend's host-side behaviour, which needs no GPU: these run (and can fail) on every
// machine that builds the CUDA backend, CI included.
#include <catch2/catch.hpp>

#include "ann/backend/cuda/backend.cuh"
#include "ann/core/array.hpp"

using Catch::Contains;

TEST_CASE("check macros throw ann::Error naming the library, the call, its message and file:line", "[cuda_host]") {
    CHECK_THROWS_AS([] { ANN_CUDA_CHECK(cudaErrorInvalidValue); }(), ann::Error);
    CHECK_THROWS_WITH([] { ANN_CUDA_CHECK(cudaErrorInvalidValue); }(),
                      Contains("CUDA call cudaErrorInvalidValue failed: invalid argument (1)") &&
                          Contains("test_cuda_host.cu:"));
    CHECK_THROWS_WITH([] { ANN_CUDNN_CHECK(CUDNN_STATUS_BAD_PARAM); }(),
                      Contains("cuDNN call CUDNN_STATUS_BAD_PARAM failed: CUDNN_STATUS_BAD_PARAM (2000)"));
    CHECK_THROWS_WITH([] { ANN_CUBLAS_CHECK(CUBLAS_STATUS_INVALID_VALUE); }(),
                      Contains("cuBLAS call CUBLAS_STATUS_INVALID_VALUE failed:") && Contains("(7)"));
    CHECK_NOTHROW([] { ANN_CUDA_CHECK(cudaSuccess); }());
}

TEST_CASE("without a usable GPU, asking for cuda is an ann::Error naming the reason, never a crash", "[cuda_host]") {
    if (ann::cuda::enable()) {  // a GPU is present: tests/cuda covers the backend itself
        CHECK(ann::cuda::describe().find("cuda: device") == 0);
        CHECK_THROWS_WITH(ann::backend<double>(ann::Device::cuda), Contains("float32 only"));
        return;
    }
    CHECK_FALSE(ann::cuda::enable());  // asking again is harmless
    CHECK(ann::cuda::describe().find("no usable CUDA device") != std::string::npos);
    CHECK_THROWS_WITH(ann::memory(ann::Device::cuda), Contains("no usable CUDA device"));
    CHECK_THROWS_WITH(ann::backend<float>(ann::Device::cuda), Contains("no usable CUDA device"));
    CHECK_THROWS_AS(ann::Array<float>({2, 3}, ann::Device::cuda), ann::Error);
    CHECK_NOTHROW(ann::Array<float>({2, 3}, ann::Device::cpu));
}
