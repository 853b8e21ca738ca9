#pragma once
// cuda::CrossEntropyLoss: torch.nn.CrossEntropyLoss on logits (N, K) and N integer targets in
// [0, K), mean over the batch, fused in one kernel with its gradient and the count of correct
// predictions. forward_async() leaves the loss on the device (no host sync: what a training
// step wants); forward() waits and returns it, as the CPU loss does.
#include <cstring>

#include "ann/backend/cuda/device_tensor.hpp"
#include "ann/backend/cuda/kernels.cuh"

namespace ann::cuda {

class CrossEntropyLoss {
public:
    explicit CrossEntropyLoss(Context& ctx = Context::get()) : ctx_(&ctx), scalars_(2), bad_(1) {
        ANN_CUDA_CHECK(cudaMemsetAsync(bad_.data(), 0, sizeof(int), ctx.stream()));
    }

    // Enqueues loss, gradient (when with_grad) and correct count. When the totals are given,
    // also adds the batch's summed loss and correct count to them (evaluation over many batches).
    void forward_async(const DeviceTensor& logits, const int* targets, bool with_grad = true,
                       double* loss_total = nullptr, unsigned long long* correct_total = nullptr) {
        if (logits.dimension() != 2)
            fail("cuda::CrossEntropyLoss: expected logits of shape (N, K), got ", shape_str(logits.shape()));
        const std::size_t N = logits.dim(0), K = logits.dim(1);
        if (N == 0) fail("cuda::CrossEntropyLoss: empty batch");
        if (with_grad) grad_.resize(logits.shape());
        row_loss_.reserve(N);
        row_correct_.reserve(N);
        kernels::softmax_xent<float>(logits.data(), targets, int(N), int(K), with_grad ? grad_.data() : nullptr,
                                     row_loss_.data(), row_correct_.data(), bad_.data(), scalars_.data(),
                                     reinterpret_cast<int*>(scalars_.data() + 1), loss_total, correct_total,
                                     ctx_->stream());
        has_grad_ = with_grad;
    }

    // Waits for the GPU; checks the targets.
    float forward(const DeviceTensor& logits, const DeviceLabels& targets) {
        if (targets.size() != logits.dim(0))
            fail("cuda::CrossEntropyLoss: ", targets.size(), " targets for ", logits.dim(0), " rows of logits");
        forward_async(logits, targets.data());
        check_targets();
        return loss();
    }
    const DeviceTensor& backward() const {
        if (!has_grad_) fail("cuda::CrossEntropyLoss: backward before a forward with gradient");
        return grad_;
    }

    // The last forward's mean loss and correct count, on the device (for graphs / history).
    const float* loss_device() const { return scalars_.data(); }
    const int* correct_device() const { return reinterpret_cast<const int*>(scalars_.data() + 1); }
    // ... and on the host (waits).
    float loss() const {
        float h[2];
        ANN_CUDA_CHECK(cudaMemcpyAsync(h, scalars_.data(), sizeof h, cudaMemcpyDeviceToHost, ctx_->stream()));
        ctx_->synchronize();
        return h[0];
    }
    int correct() const {
        float h[2];
        ANN_CUDA_CHECK(cudaMemcpyAsync(h, scalars_.data(), sizeof h, cudaMemcpyDeviceToHost, ctx_->stream()));
        ctx_->synchronize();
        int c;
        std::memcpy(&c, &h[1], sizeof c);
        return c;
    }
    // Throws if any forward since the last check saw a target outside [0, K).
    void check_targets() {
        int bad = 0;
        ANN_CUDA_CHECK(cudaMemcpyAsync(&bad, bad_.data(), sizeof bad, cudaMemcpyDeviceToHost, ctx_->stream()));
        ctx_->synchronize();
        if (bad) {
            ANN_CUDA_CHECK(cudaMemsetAsync(bad_.data(), 0, sizeof(int), ctx_->stream()));
            fail("cuda::CrossEntropyLoss: a target is outside [0, K)");
        }
    }

private:
    Context* ctx_;
    DeviceBuffer<float> scalars_;  // [mean loss, correct count (int bits)]
    DeviceBuffer<int> bad_;
    DeviceBuffer<float> row_loss_;
    DeviceBuffer<int> row_correct_;
    DeviceTensor grad_;
    bool has_grad_ = false;
};

}  // namespace ann::cuda
