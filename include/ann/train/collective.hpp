#pragma once
// How the processes of a data-parallel run share a training step (MPI's ann::dist::Communicator
// implements it; the core library never needs MPI). With no Collective a process trains alone.
//
// Data-parallel step (train/run.hpp), with P processes holding identical models:
//   every process draws the same global batch (same order Rng), takes its shard of it
//   (shard_range: contiguous, deterministic), runs forward and backward on the shard with the
//   loss divided by the global batch size (CrossEntropyLoss::forward_shard), then one sum() over
//   all parameter gradients, the buffers (BufferSync) and the shard's share of the mean loss,
//   packed in one flat buffer;
//   then every process takes the same optimizer step. The summed gradient is the single-process gradient with the batch
//   sum regrouped (docs/distributed.md bounds the difference); everything after it is identical.
// Evaluation shards the image list the same way and sums the correct counts (exact integers).
#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "ann/core/error.hpp"
#include "ann/layers/sequential.hpp"

namespace ann::train {

class Collective {
public:
    virtual ~Collective() = default;
    virtual int rank() const = 0;
    virtual int size() const = 0;
    // Element-wise sum over all processes, in place; every process gets the same result.
    virtual void sum(float* data, std::size_t n) = 0;
    virtual void sum(double* data, std::size_t n) = 0;
    // data of process `root` copied to every process.
    virtual void broadcast(float* data, std::size_t n, int root) = 0;
    virtual void broadcast(double* data, std::size_t n, int root) = 0;
};

// [begin, end) of the n items that process `rank` of `size` takes: contiguous blocks, sizes
// differing by at most one, in rank order (rank 0 first). Some shards are empty when n < size.
inline std::pair<std::size_t, std::size_t> shard_range(std::size_t n, int rank, int size) {
    if (size < 1 || rank < 0 || rank >= size) fail("shard_range: rank ", rank, " of ", size, " processes");
    const auto r = static_cast<std::size_t>(rank), p = static_cast<std::size_t>(size);
    return {n * r / p, n * (r + 1) / p};
}

// The parameters of `model` packed into (pack) and unpacked from (unpack) one flat host buffer,
// gradients or values, in parameters() order, then the values of its buffers (BatchNorm2d's
// running statistics), followed by `extra` slots of the caller's (the training step puts its loss
// there, so one sum() carries everything). Data-parallel training runs on the CPU.
// Buffers in a step: each process updates its running statistics from its own shard (as PyTorch's
// DistributedDataParallel without SyncBatchNorm); pack_step/unpack_step then make every buffer
// the same on every process, as its BufferSync says, so the models stay identical.
template <class T>
class FlatParameters {
public:
    explicit FlatParameters(Sequential<T>& model, std::size_t extra = 0)
        : params_(model.parameters()), buffers_(model.buffers()) {
        std::size_t n = 0;
        for (auto* p : params_) {
            if (p->value.device() != Device::cpu)
                fail("data-parallel training runs on the CPU; the model is on ", to_string(p->value.device()));
            n += p->size();
        }
        for (auto* b : buffers_) n += b->size();
        flat_.resize(n + extra);
        state_size_ = n;
    }
    std::vector<T>& buffer() { return flat_; }
    T* extra() { return flat_.data() + state_size_; }

    // A training step: gradients and buffer values out; summed gradients and synchronised buffers
    // back (BufferSync, core/parameter.hpp): a replicated buffer goes out from the last process only
    // (shard_range always gives it images; zeros from the others, so the sum is its value exactly),
    // a mean buffer from every process that had images (a process whose shard was empty ran no
    // forward), divided by their number on the way back.
    void pack_step(bool had_images, bool last_process) {
        walk([](T* flat, Parameter<T>& p) { copy(p.grad.data(), flat, p.size()); },
             [=](T* flat, Buffer<T>& b) {
                 const bool sends = b.sync == BufferSync::mean ? had_images : last_process;
                 if (sends) copy(b.value.data(), flat, b.size());
                 else std::fill(flat, flat + b.size(), T(0));
             });
    }
    void unpack_step(std::size_t processes_with_images) {
        const T P = static_cast<T>(processes_with_images);
        walk([](T* flat, Parameter<T>& p) { copy(flat, p.grad.data(), p.size()); },
             [P](T* flat, Buffer<T>& b) {
                 T* v = b.value.data();
                 if (b.sync == BufferSync::mean)
                     for (std::size_t i = 0; i < b.size(); ++i) v[i] = flat[i] / P;
                 else
                     copy(flat, v, b.size());
             });
    }
    // Parameter and buffer values (broadcast_parameters).
    void pack_values() {
        walk([](T* flat, Parameter<T>& p) { copy(p.value.data(), flat, p.size()); },
             [](T* flat, Buffer<T>& b) { copy(b.value.data(), flat, b.size()); });
    }
    void unpack_values() {
        walk([](T* flat, Parameter<T>& p) { copy(flat, p.value.data(), p.size()); },
             [](T* flat, Buffer<T>& b) { copy(flat, b.value.data(), b.size()); });
    }

private:
    static void copy(const T* from, T* to, std::size_t n) { std::copy(from, from + n, to); }
    template <class F, class G>
    void walk(F on_param, G on_buffer) {
        T* at = flat_.data();
        for (auto* p : params_) {
            on_param(at, *p);
            at += p->size();
        }
        for (auto* b : buffers_) {
            on_buffer(at, *b);
            at += b->size();
        }
    }
    std::vector<Parameter<T>*> params_;
    std::vector<Buffer<T>*> buffers_;
    std::vector<T> flat_;
    std::size_t state_size_ = 0;
};

// Makes every process's model (parameters and buffers) equal to process 0's (the start of a
// data-parallel run).
template <class T>
void broadcast_parameters(Collective& c, Sequential<T>& model) {
    FlatParameters<T> flat(model);
    flat.pack_values();
    c.broadcast(flat.buffer().data(), flat.buffer().size(), 0);
    flat.unpack_values();
}

}  // namespace ann::train
