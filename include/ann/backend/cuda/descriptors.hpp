#pragma once
// RAII wrappers for the cuDNN descriptors the layers use: created in the constructor,
// destroyed in the destructor, move-only. All float32, NCHW.
#include <utility>

#include "ann/backend/cuda/check.hpp"

namespace ann::cuda {

template <class H, cudnnStatus_t (*Create)(H*), cudnnStatus_t (*Destroy)(H)>
class CudnnHandle {
public:
    CudnnHandle() { ANN_CUDNN_CHECK(Create(&h_)); }
    ~CudnnHandle() {
        if (h_) ANN_CUDA_NOTHROW(Destroy(h_));
    }
    CudnnHandle(const CudnnHandle&) = delete;
    CudnnHandle& operator=(const CudnnHandle&) = delete;
    CudnnHandle(CudnnHandle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
    CudnnHandle& operator=(CudnnHandle&& o) noexcept {
        std::swap(h_, o.h_);
        return *this;
    }
    H get() const { return h_; }
    operator H() const { return h_; }

private:
    H h_ = nullptr;
};

class TensorDesc : public CudnnHandle<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor> {
public:
    TensorDesc() = default;
    TensorDesc(int n, int c, int h, int w) { set(n, c, h, w); }
    void set(int n, int c, int h, int w) {
        ANN_CUDNN_CHECK(cudnnSetTensor4dDescriptor(get(), CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w));
    }
};

class FilterDesc : public CudnnHandle<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor> {
public:
    void set(int o, int c, int kh, int kw) {
        ANN_CUDNN_CHECK(cudnnSetFilter4dDescriptor(get(), CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, o, c, kh, kw));
    }
};

class ConvDesc : public CudnnHandle<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor> {
public:
    // Cross-correlation (what torch.nn.Conv2d computes), float accumulation.
    void set(int pad, int stride, bool allow_tf32) {
        ANN_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(get(), pad, pad, stride, stride, 1, 1,
                                                        CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
        // FMA math keeps float convolutions in full fp32 (no TF32 tensor cores).
        ANN_CUDNN_CHECK(cudnnSetConvolutionMathType(get(), allow_tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
    }
};

class PoolDesc : public CudnnHandle<cudnnPoolingDescriptor_t, cudnnCreatePoolingDescriptor, cudnnDestroyPoolingDescriptor> {
public:
    // Max pooling without padding; deterministic routing of the gradient, NaN propagates
    // (as the CPU backend and PyTorch).
    void set_max(int k, int stride) {
        ANN_CUDNN_CHECK(cudnnSetPooling2dDescriptor(get(), CUDNN_POOLING_MAX_DETERMINISTIC, CUDNN_PROPAGATE_NAN,
                                                    k, k, 0, 0, stride, stride));
    }
};

class ActivationDesc : public CudnnHandle<cudnnActivationDescriptor_t, cudnnCreateActivationDescriptor, cudnnDestroyActivationDescriptor> {
public:
    explicit ActivationDesc(cudnnActivationMode_t mode) {
        ANN_CUDNN_CHECK(cudnnSetActivationDescriptor(get(), mode, CUDNN_PROPAGATE_NAN, 0.0));
    }
};

}  // namespace ann::cuda
