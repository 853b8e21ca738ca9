#pragma once
// DeviceDataset: a whole image data set on the GPU as uint8 (CIFAR-10's 50 000 training images
// are 150 MB), with its labels. Batches are gathered and converted to float on the GPU:
//   x[b, c] = images[order[offset + b], c] * scale[c] + shift[c]
// so a training step copies nothing between host and device.
#include <cstdint>
#include <numeric>
#include <vector>

#include "ann/backend/cuda/device_tensor.hpp"
#include "ann/backend/cuda/kernels.cuh"

namespace ann::cuda {

class DeviceDataset {
public:
    // images is (count, C, H, W) uint8, row-major; labels has count entries in [0, num_classes).
    DeviceDataset(const std::uint8_t* images, const std::uint8_t* labels, std::size_t count, const Shape& sample_shape,
                  int num_classes, Context& ctx = Context::get())
        : ctx_(&ctx), count_(count), sample_shape_(sample_shape), classes_(num_classes) {
        if (sample_shape.size() != 3) fail("DeviceDataset: sample shape must be (C, H, W), got ", shape_str(sample_shape));
        if (count == 0) fail("DeviceDataset: no samples");
        for (std::size_t i = 0; i < count; ++i)
            if (labels[i] >= num_classes)
                fail("DeviceDataset: label ", int(labels[i]), " of sample ", i, " is outside [0, ", num_classes, ")");
        const std::size_t per = numel(sample_shape);
        images_.reserve(count * per);
        labels_.reserve(count);
        ANN_CUDA_CHECK(cudaMemcpyAsync(images_.data(), images, count * per, cudaMemcpyHostToDevice, ctx.stream()));
        ANN_CUDA_CHECK(cudaMemcpyAsync(labels_.data(), labels, count, cudaMemcpyHostToDevice, ctx.stream()));
        set_normalization(std::vector<float>(sample_shape[0], 1.0f / 255.0f), std::vector<float>(sample_shape[0], 0.0f));
        std::vector<int> iota(count);
        std::iota(iota.begin(), iota.end(), 0);
        identity_.reserve(count);
        ANN_CUDA_CHECK(cudaMemcpyAsync(identity_.data(), iota.data(), count * sizeof(int), cudaMemcpyHostToDevice, ctx.stream()));
        ctx.synchronize();
    }

    // Per-channel affine map from uint8 to float (default: x / 255).
    void set_normalization(const std::vector<float>& scale, const std::vector<float>& shift) {
        const std::size_t C = sample_shape_[0];
        if (scale.size() != C || shift.size() != C)
            fail("DeviceDataset: normalization needs ", C, " scales and shifts, got ", scale.size(), " and ", shift.size());
        std::vector<float> both(scale);
        both.insert(both.end(), shift.begin(), shift.end());
        norm_.reserve(2 * C);
        ANN_CUDA_CHECK(cudaMemcpyAsync(norm_.data(), both.data(), both.size() * sizeof(float), cudaMemcpyHostToDevice, ctx_->stream()));
        ctx_->synchronize();
    }

    std::size_t size() const { return count_; }
    const Shape& sample_shape() const { return sample_shape_; }
    int num_classes() const { return classes_; }
    // 0, 1, ..., size()-1 on the device (evaluation order).
    const int* identity_order() const { return identity_.data(); }

    // Enqueues the gather of `batch` samples order[*offset + b] (offset: device pointer or null
    // for 0) into x (batch, C, H, W) and targets (batch,).
    void gather(const int* order, const int* offset, std::size_t batch, DeviceTensor& x, DeviceLabels& targets) const {
        x.resize({batch, sample_shape_[0], sample_shape_[1], sample_shape_[2]});
        targets.resize(batch);
        const int C = int(sample_shape_[0]), HW = int(sample_shape_[1] * sample_shape_[2]);
        kernels::gather_u8<float>(images_.data(), labels_.data(), order, offset, int(batch), C, HW, norm_.data(),
                                  norm_.data() + C, x.data(), targets.data(), ctx_->stream());
    }
    // Samples [first, first + batch) in stored order.
    void gather_range(std::size_t first, std::size_t batch, DeviceTensor& x, DeviceLabels& targets) const {
        if (first + batch > count_) fail("DeviceDataset: samples [", first, ", ", first + batch, ") of ", count_);
        gather(identity_.data() + first, nullptr, batch, x, targets);
    }

private:
    Context* ctx_;
    std::size_t count_;
    Shape sample_shape_;
    int classes_;
    DeviceBuffer<std::uint8_t> images_, labels_;
    DeviceBuffer<float> norm_;
    DeviceBuffer<int> identity_;
};

}  // namespace ann::cuda
