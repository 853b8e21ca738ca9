#pragma once
// The device training loop's pieces:
//   TrainStep: one fixed-shape training step (gather batch -> zero_grad -> forward -> loss ->
//              backward -> optimizer step -> record loss and correct count), all on the GPU.
//              The first step of a shape runs eagerly (it picks convolution algorithms and
//              sizes every buffer); later steps replay a CUDA graph of it, which removes the
//              per-kernel launch overhead. If capturing fails (a library call that cannot be
//              captured), it falls back to eager steps and says why in graph_status().
//              Any device allocation or free since the capture (evaluate() with a larger batch,
//              a new tensor) may have moved the buffers the graph points to: the next step then
//              runs eagerly again and the one after re-captures.
//   evaluate:  mean loss and accuracy over a whole DeviceDataset in large batches, one host
//              sync at the end.
// The per-step loss and correct count stay on the device until history() reads them: one copy
// per epoch (or per curve point) instead of one per step.
#include <string>
#include <vector>

#include "ann/backend/cuda/dataset.cuh"
#include "ann/backend/cuda/loss.cuh"
#include "ann/backend/cuda/model.cuh"
#include "ann/backend/cuda/optim.cuh"

namespace ann::cuda {

struct TrainStepOptions {
    std::size_t batch_size = 50;
    bool use_graph = true;
};

class TrainStep {
public:
    TrainStep(DeviceModel& model, CrossEntropyLoss& loss, Optimizer& opt, const DeviceDataset& data,
              TrainStepOptions o = {})
        : model_(model), loss_(loss), opt_(opt), data_(data), o_(o), ctx_(&model.context()), state_(2) {
        if (o.batch_size == 0) fail("TrainStep: batch size must be positive");
        model_.set_input_grad(false);
    }
    ~TrainStep() { destroy_graph(); }
    TrainStep(const TrainStep&) = delete;
    TrainStep& operator=(const TrainStep&) = delete;

    // Starts an epoch over `order` (sample indices; a multiple of the batch size is used, the
    // remainder dropped). One host->device copy.
    void start_epoch(const std::vector<int>& order) {
        steps_ = order.size() / o_.batch_size;
        if (steps_ == 0) fail("TrainStep: an epoch of ", order.size(), " samples has no full batch of ", o_.batch_size);
        for (int i : order)
            if (i < 0 || std::size_t(i) >= data_.size()) fail("TrainStep: sample index ", i, " outside [0, ", data_.size(), ")");
        if (order.size() > order_.capacity() || steps_ > loss_hist_.capacity()) {
            destroy_graph();  // the graph holds the old pointers
            order_.reserve(order.size());
            loss_hist_.reserve(steps_);
            correct_hist_.reserve(steps_);
        }
        ANN_CUDA_CHECK(cudaMemcpyAsync(order_.data(), order.data(), order.size() * sizeof(int), cudaMemcpyHostToDevice, ctx_->stream()));
        ANN_CUDA_CHECK(cudaMemsetAsync(state_.data(), 0, 2 * sizeof(int), ctx_->stream()));
        ctx_->synchronize();
        done_ = 0;
    }

    std::size_t steps_per_epoch() const { return steps_; }
    std::size_t steps_done() const { return done_; }

    void step() {
        if (done_ >= steps_) fail("TrainStep: epoch finished (", steps_, " steps); call start_epoch");
        if (exec_ && detail::allocation_epoch().load() != captured_epoch_) {
            destroy_graph();
            warm_ = 0;
            ++recaptures_;
        }
        if (!o_.use_graph || warm_ == 0 || graph_failed_) {
            enqueue();
            ++warm_;
        } else {
            if (!exec_) capture();
            if (exec_) {
                ANN_CUDA_CHECK(cudaGraphLaunch(exec_, ctx_->stream()));
            } else {
                enqueue();
            }
        }
        ++done_;
    }

    // Loss and correct count of each step of this epoch so far (waits for the GPU).
    struct History {
        std::vector<float> loss;
        std::vector<int> correct;
    };
    History history() const {
        History h;
        h.loss.resize(done_);
        h.correct.resize(done_);
        if (done_ == 0) return h;
        ANN_CUDA_CHECK(cudaMemcpyAsync(h.loss.data(), loss_hist_.data(), done_ * sizeof(float), cudaMemcpyDeviceToHost, ctx_->stream()));
        ANN_CUDA_CHECK(cudaMemcpyAsync(h.correct.data(), correct_hist_.data(), done_ * sizeof(int), cudaMemcpyDeviceToHost, ctx_->stream()));
        ctx_->synchronize();
        return h;
    }

    bool graph_active() const { return exec_ != nullptr; }
    // How often a graph was dropped because device memory changed since its capture.
    std::size_t recaptures() const { return recaptures_; }
    // "graph", "eager (graphs off)", "eager (warm-up)" or "eager (capture failed: ...)".
    std::string graph_status() const {
        if (!o_.use_graph) return "eager (graphs off)";
        if (graph_failed_) return "eager (capture failed: " + graph_error_ + ")";
        return exec_ ? "graph" : "eager (warm-up)";
    }

private:
    void enqueue() {
        cudaStream_t s = ctx_->stream();
        data_.gather(order_.data(), state_.data() + 1, o_.batch_size, x_, y_);
        opt_.zero_grad();
        const DeviceTensor& logits = model_.forward(x_);
        loss_.forward_async(logits, y_.data());
        model_.backward(loss_.backward());
        opt_.step();
        kernels::record_step<float>(loss_.loss_device(), loss_.correct_device(), loss_hist_.data(), correct_hist_.data(),
                                    int(loss_hist_.capacity()), state_.data(), state_.data() + 1, int(o_.batch_size), s);
    }
    void capture() {
        cudaStream_t s = ctx_->stream();
        cudaGraph_t graph = nullptr;
        try {
            ANN_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal));
            try {
                enqueue();
            } catch (...) {
                cudaStreamEndCapture(s, &graph);
                if (graph) cudaGraphDestroy(graph);
                static_cast<void>(cudaGetLastError());
                throw;
            }
            ANN_CUDA_CHECK(cudaStreamEndCapture(s, &graph));
            ANN_CUDA_CHECK(cudaGraphInstantiate(&exec_, graph, 0));
            ANN_CUDA_CHECK(cudaGraphDestroy(graph));
            captured_epoch_ = detail::allocation_epoch().load();
        } catch (const Error& e) {
            if (graph) cudaGraphDestroy(graph);
            exec_ = nullptr;
            graph_failed_ = true;
            graph_error_ = e.what();
            static_cast<void>(cudaGetLastError());
        }
    }
    void destroy_graph() noexcept {
        if (exec_) ANN_CUDA_NOTHROW(cudaGraphExecDestroy(exec_));
        exec_ = nullptr;
    }

    DeviceModel& model_;
    CrossEntropyLoss& loss_;
    Optimizer& opt_;
    const DeviceDataset& data_;
    TrainStepOptions o_;
    Context* ctx_;
    DeviceBuffer<int> order_, state_;  // state_: [step in epoch, offset into order]
    DeviceBuffer<float> loss_hist_;
    DeviceBuffer<int> correct_hist_;
    DeviceTensor x_;
    DeviceLabels y_;
    std::size_t steps_ = 0, done_ = 0, warm_ = 0, recaptures_ = 0;
    std::uint64_t captured_epoch_ = 0;
    cudaGraphExec_t exec_ = nullptr;
    bool graph_failed_ = false;
    std::string graph_error_;
};

struct EvalResult {
    double loss = 0;      // mean over samples
    double accuracy = 0;  // fraction correct
};

// Mean loss and accuracy of `model` on the whole of `data`, `batch` samples at a time (the
// last batch may be smaller). One host sync, at the end.
inline EvalResult evaluate(DeviceModel& model, const DeviceDataset& data, std::size_t batch = 2000) {
    Context& ctx = model.context();
    if (batch == 0) fail("evaluate: batch size must be positive");
    DeviceBuffer<double> loss_total(1);
    DeviceBuffer<unsigned long long> correct_total(1);
    ANN_CUDA_CHECK(cudaMemsetAsync(loss_total.data(), 0, sizeof(double), ctx.stream()));
    ANN_CUDA_CHECK(cudaMemsetAsync(correct_total.data(), 0, sizeof(unsigned long long), ctx.stream()));
    CrossEntropyLoss ce(ctx);
    DeviceTensor x;
    DeviceLabels y;
    for (std::size_t first = 0; first < data.size(); first += batch) {
        const std::size_t b = std::min(batch, data.size() - first);
        data.gather_range(first, b, x, y);
        ce.forward_async(model.forward(x), y.data(), false, loss_total.data(), correct_total.data());
    }
    double l = 0;
    unsigned long long c = 0;
    ANN_CUDA_CHECK(cudaMemcpyAsync(&l, loss_total.data(), sizeof l, cudaMemcpyDeviceToHost, ctx.stream()));
    ANN_CUDA_CHECK(cudaMemcpyAsync(&c, correct_total.data(), sizeof c, cudaMemcpyDeviceToHost, ctx.stream()));
    ctx.synchronize();
    return {l / double(data.size()), double(c) / double(data.size())};
}

}  // namespace ann::cuda
