#pragma once
// Code shared by the CPU and CUDA backends, compiled by g++ for the one and nvcc for the other:
// a formula written once cannot drift between the devices.
//   ANN_HOST_DEVICE  marks such a function __host__ __device__ under nvcc, nothing under g++.
//   div_exact(a, b)  a / b rounded to nearest even on both: nvcc's IEEE division is spelled out
//                    (it holds even under -prec-div=false), g++'s `/` is IEEE already.
#if defined(__CUDACC__)
#define ANN_HOST_DEVICE __host__ __device__
#else
#define ANN_HOST_DEVICE
#endif

namespace ann::shared {

ANN_HOST_DEVICE inline float div_exact(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fdiv_rn(a, b);
#else
    return a / b;
#endif
}
ANN_HOST_DEVICE inline double div_exact(double a, double b) {
#if defined(__CUDA_ARCH__)
    return __ddiv_rn(a, b);
#else
    return a / b;
#endif
}

}  // namespace ann::shared
