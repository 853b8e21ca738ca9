// The CUDA backend's host-side behaviour, which needs no GPU: these run (and can fail) on every
// machine that builds the CUDA backend, CI included.
#include <catch2/catch.hpp>

#include "ann/cuda.cuh"

namespace cu = ann::cuda;
using Catch::Contains;

TEST_CASE("check macros throw ann::Error naming the library, the call, its message and file:line", "[cuda_host]") {
    CHECK_THROWS_AS([] { ANN_CUDA_CHECK(cudaErrorInvalidValue); }(), ann::Error);
    CHECK_THROWS_WITH([] { ANN_CUDA_CHECK(cudaErrorInvalidValue); }(),
                      Contains("CUDA call cudaErrorInvalidValue failed: invalid argument (1)") &&
                          Contains("test_cuda_host.cu:"));
    CHECK_THROWS_WITH([] { ANN_CUDNN_CHECK(CUDNN_STATUS_BAD_PARAM); }(),
                      Contains("cuDNN call CUDNN_STATUS_BAD_PARAM failed: CUDNN_STATUS_BAD_PARAM"));
    CHECK_THROWS_WITH([] { ANN_CUBLAS_CHECK(CUBLAS_STATUS_INVALID_VALUE); }(),
                      Contains("cuBLAS call CUBLAS_STATUS_INVALID_VALUE failed:") && Contains("(7)"));
    CHECK_NOTHROW([] { ANN_CUDA_CHECK(cudaSuccess); }());
}

TEST_CASE("to_device reads stride, padding and pooling windows from the CPU layers' names", "[cuda_host]") {
    ann::Conv2d<float> plain(3, 16, 3), strided(3, 16, 5, 2, 1, false);
    ann::MaxPool2d<float> pool(3, 2);
    CHECK(cu::detail::name_field(plain.name(), "stride", 1) == 1);
    CHECK(cu::detail::name_field(plain.name(), "padding", 0) == 0);
    CHECK(cu::detail::name_field(strided.name(), "stride", 1) == 2);
    CHECK(cu::detail::name_field(strided.name(), "padding", 0) == 1);
    CHECK(cu::detail::name_field(pool.name(), "kernel_size", 2) == 3);
    CHECK(cu::detail::name_field(pool.name(), "stride", 2) == 2);
}

TEST_CASE("DeviceTensor shape errors need no device", "[cuda_host]") {
    cu::DeviceTensor empty, view;
    CHECK_THROWS_WITH(view.alias(empty, {2, 3}), Contains("DeviceTensor: cannot view () as (2, 3)"));
    view.alias(empty, {0});
    CHECK_THROWS_WITH(view.resize({4}), Contains("cannot resize an alias"));
}

TEST_CASE("without a usable GPU, the backend fails with an ann::Error, never a crash", "[cuda_host]") {
    const int n = cu::device_count();  // never throws
    CHECK(n >= 0);
    if (n > 0) return;  // a GPU is present: test_cuda covers the rest
    CHECK_THROWS_WITH(cu::Context::get(), Contains("cudaGetDevice"));
    CHECK_THROWS_WITH(cu::DeviceBuffer<float>(16), Contains("cudaMalloc"));
    auto cpu = ann::models::homework<float>("mlp_1");
    CHECK_THROWS_AS(cu::to_device(cpu), ann::Error);
}
