#pragma once
// DeviceTensor: a float32 NCHW/row-major tensor in GPU memory, the device counterpart of
// ann::Tensor<float>. It either owns its memory (a DeviceBuffer that only grows) or is an alias
// of another tensor's memory with a different shape (Flatten's output: no copy).
// Copies to and from the host are explicit (upload/download) and go through the context's
// stream; nothing else in the CUDA backend copies between host and device behind your back.
#include <algorithm>
#include <vector>

#include "ann/backend/cuda/buffer.hpp"
#include "ann/backend/cuda/context.hpp"
#include "ann/core/tensor.hpp"

namespace ann::cuda {

class DeviceTensor {
public:
    DeviceTensor() = default;
    explicit DeviceTensor(const Shape& shape) { resize(shape); }

    // Owning resize; contents are undefined afterwards when the capacity grew.
    void resize(const Shape& shape) {
        if (alias_) fail("DeviceTensor: cannot resize an alias of another tensor");
        buf_.reserve(numel(shape));
        shape_ = shape;
        data_ = buf_.data();
    }
    // Make this tensor a view of `other`'s memory with another shape of the same size.
    void alias(const DeviceTensor& other, const Shape& shape) {
        if (numel(shape) != other.size())
            fail("DeviceTensor: cannot view ", shape_str(other.shape()), " as ", shape_str(shape));
        alias_ = true;
        shape_ = shape;
        data_ = const_cast<float*>(other.data());
    }

    float* data() { return data_; }
    const float* data() const { return data_; }
    const Shape& shape() const { return shape_; }
    std::size_t dim(std::size_t i) const { return shape_.at(i); }
    std::size_t dimension() const { return shape_.size(); }
    std::size_t size() const { return shape_.empty() ? 0 : numel(shape_); }

    void zero(Context& ctx = Context::get()) {
        if (size()) ANN_CUDA_CHECK(cudaMemsetAsync(data_, 0, size() * sizeof(float), ctx.stream()));
    }

    // Host -> device; waits for the copy, so `host` may change right after.
    void upload(const Tensor<float>& host, Context& ctx = Context::get()) {
        resize(shape_of(host));
        upload(host.data(), host.size(), ctx);
    }
    void upload(const float* host, std::size_t n, Context& ctx = Context::get()) {
        if (n != size()) fail("DeviceTensor::upload: ", n, " values for a tensor of shape ", shape_str(shape_));
        ANN_CUDA_CHECK(cudaMemcpyAsync(data_, host, n * sizeof(float), cudaMemcpyHostToDevice, ctx.stream()));
        ctx.synchronize();
    }
    // Device -> host, after all work queued on the context's stream.
    Tensor<float> download(Context& ctx = Context::get()) const {
        Tensor<float> host = Tensor<float>::from_shape(shape_);
        download(host.data(), host.size(), ctx);
        return host;
    }
    void download(float* host, std::size_t n, Context& ctx = Context::get()) const {
        if (n != size()) fail("DeviceTensor::download: room for ", n, " values, tensor has shape ", shape_str(shape_));
        ANN_CUDA_CHECK(cudaMemcpyAsync(host, data_, n * sizeof(float), cudaMemcpyDeviceToHost, ctx.stream()));
        ctx.synchronize();
    }

    static DeviceTensor from_host(const Tensor<float>& host, Context& ctx = Context::get()) {
        DeviceTensor t;
        t.upload(host, ctx);
        return t;
    }

private:
    DeviceBuffer<float> buf_;
    Shape shape_;
    float* data_ = nullptr;
    bool alias_ = false;
};

// Integer class labels on the GPU (targets of the loss).
class DeviceLabels {
public:
    DeviceLabels() = default;
    void resize(std::size_t n) {
        buf_.reserve(n);
        n_ = n;
    }
    template <class Vec>
    void upload(const Vec& labels, Context& ctx = Context::get()) {
        std::vector<int> h(std::begin(labels), std::end(labels));
        resize(h.size());
        ANN_CUDA_CHECK(cudaMemcpyAsync(buf_.data(), h.data(), h.size() * sizeof(int), cudaMemcpyHostToDevice, ctx.stream()));
        ctx.synchronize();
    }
    int* data() { return buf_.data(); }
    const int* data() const { return buf_.data(); }
    std::size_t size() const { return n_; }

private:
    DeviceBuffer<int> buf_;
    std::size_t n_ = 0;
};

// A trainable device tensor and its gradient; same gradient contract as ann::Parameter
// (backward ADDS into grad; zero_grad clears it).
struct DeviceParameter {
    std::string name;
    DeviceTensor value, grad;

    void zero_grad(Context& ctx = Context::get()) { grad.zero(ctx); }
    std::size_t size() const { return value.size(); }
};

}  // namespace ann::cuda
