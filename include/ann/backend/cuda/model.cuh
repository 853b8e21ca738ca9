#pragma once
// DeviceModel: a GPU mirror of a CPU ann::Sequential<float>.
//   auto gpu = ann::cuda::to_device(cpu_model);     // layers mirrored, parameters copied
//   const auto& logits = gpu.forward(x);             // x: DeviceTensor (N, 3, 32, 32)
//   gpu.backward(loss.backward());                   // same contract as the CPU model
//   gpu.copy_parameters_to(cpu_model);               // weights back, e.g. for saving
// Layers it knows: Linear, Conv2d, MaxPool2d, ReLU, Sigmoid, Tanh, Flatten and nested
// Sequentials; any other layer is an ann::Error naming it.
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "ann/backend/cuda/layers.cuh"
#include "ann/layers/activations.hpp"
#include "ann/layers/conv2d.hpp"
#include "ann/layers/flatten.hpp"
#include "ann/layers/linear.hpp"
#include "ann/layers/maxpool2d.hpp"
#include "ann/layers/sequential.hpp"

namespace ann::cuda {

class DeviceModel {
public:
    explicit DeviceModel(Context& ctx = Context::get()) : ctx_(&ctx) {}

    DeviceLayer& add(std::unique_ptr<DeviceLayer> l) {
        layers_.push_back(std::move(l));
        return *layers_.back();
    }
    std::size_t size() const { return layers_.size(); }
    DeviceLayer& operator[](std::size_t i) {
        if (i >= layers_.size()) fail("DeviceModel: index ", i, " out of range (", layers_.size(), " layers)");
        return *layers_[i];
    }
    Context& context() { return *ctx_; }

    const DeviceTensor& forward(const DeviceTensor& x) {
        if (layers_.empty()) fail("DeviceModel: forward on an empty model");
        const DeviceTensor* cur = &x;
        for (auto& l : layers_) cur = &l->forward(*cur);
        return *cur;
    }
    // Returns the gradient of the model's input (empty when set_input_grad(false)). A layer
    // whose input gradient is off ends the pass: the layers before it get no gradient.
    const DeviceTensor& backward(const DeviceTensor& dy) {
        if (layers_.empty()) fail("DeviceModel: backward on an empty model");
        const DeviceTensor* cur = &dy;
        for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
            cur = &(*it)->backward(*cur);
            if (!(*it)->input_grad()) break;
        }
        return *cur;
    }
    // Training never needs the gradient of the images: turning it off skips the input-gradient
    // work of every layer up to and including the first one with parameters (nothing before
    // it has a gradient to feed).
    void set_input_grad(bool on) {
        for (auto& l : layers_) {
            l->set_input_grad(on);
            if (!l->parameters().empty()) break;
        }
    }

    std::vector<DeviceParameter*> parameters() {
        std::vector<DeviceParameter*> all;
        for (auto& l : layers_)
            for (auto* p : l->parameters()) all.push_back(p);
        return all;
    }
    void zero_grad() {
        for (auto* p : parameters()) p->zero_grad(*ctx_);
    }

    // Parameters (values only) between this model and a CPU model of the same architecture.
    void copy_parameters_to(Sequential<float>& cpu) {
        auto dev = parameters();
        auto host = cpu.parameters();
        check_match(dev, host);
        for (std::size_t i = 0; i < dev.size(); ++i) dev[i]->value.download(host[i]->value.data(), host[i]->size(), *ctx_);
    }
    void copy_parameters_from(Sequential<float>& cpu) {
        auto dev = parameters();
        auto host = cpu.parameters();
        check_match(dev, host);
        for (std::size_t i = 0; i < dev.size(); ++i) dev[i]->value.upload(host[i]->value.data(), host[i]->size(), *ctx_);
    }
    // Gradients too, for tests and for checking a device step against the CPU.
    void copy_gradients_to(Sequential<float>& cpu) {
        auto dev = parameters();
        auto host = cpu.parameters();
        check_match(dev, host);
        for (std::size_t i = 0; i < dev.size(); ++i) dev[i]->grad.download(host[i]->grad.data(), host[i]->size(), *ctx_);
    }

    std::string summary() const {
        std::ostringstream os;
        for (std::size_t i = 0; i < layers_.size(); ++i) os << "  (" << i << ") " << layers_[i]->name() << '\n';
        return os.str();
    }

private:
    static void check_match(const std::vector<DeviceParameter*>& dev, const std::vector<Parameter<float>*>& host) {
        if (dev.size() != host.size())
            fail("DeviceModel: the CPU model has ", host.size(), " parameters, the device model ", dev.size());
        for (std::size_t i = 0; i < dev.size(); ++i)
            if (dev[i]->value.shape() != shape_of(host[i]->value))
                fail("DeviceModel: parameter ", i, " (", host[i]->name, ") has shape ", shape_str(host[i]->value.shape()),
                     " on the CPU and ", shape_str(dev[i]->value.shape()), " on the device");
    }

    Context* ctx_;
    std::vector<std::unique_ptr<DeviceLayer>> layers_;
};

namespace detail {

// Reads "key=N" out of a CPU layer's name(); the CPU layers print stride, padding and
// bias=False only when they differ from the defaults.
inline std::size_t name_field(const std::string& name, const std::string& key, std::size_t dflt) {
    const auto at = name.find(key + "=");
    if (at == std::string::npos) return dflt;
    return static_cast<std::size_t>(std::stoul(name.substr(at + key.size() + 1)));
}

inline void mirror_into(DeviceModel& dev, Layer<float>& l, Context& ctx) {
    if (auto* seq = dynamic_cast<Sequential<float>*>(&l)) {
        for (std::size_t i = 0; i < seq->size(); ++i) mirror_into(dev, (*seq)[i], ctx);
    } else if (auto* lin = dynamic_cast<ann::Linear<float>*>(&l)) {
        const auto& w = lin->weight().value;
        dev.add(std::make_unique<cuda::Linear>(w.shape()[1], w.shape()[0], lin->has_bias(), ctx));
    } else if (auto* conv = dynamic_cast<ann::Conv2d<float>*>(&l)) {
        const std::string n = conv->name();
        const std::size_t s = name_field(n, "stride", 1), p = name_field(n, "padding", 0);
        const bool bias = conv->parameters().size() == 2;
        auto d = std::make_unique<cuda::Conv2d>(conv->in_channels(), conv->out_channels(), conv->kernel_size(), s, p, bias, ctx);
        // The name parsing must agree with the CPU layer's own geometry.
        for (std::size_t h : {conv->kernel_size() + 5, conv->kernel_size() + 8})
            if (d->output_shape({1, conv->in_channels(), h, h}) != conv->output_shape({1, conv->in_channels(), h, h}))
                fail("to_device: could not read the geometry of ", n);
        dev.add(std::move(d));
    } else if (auto* pool = dynamic_cast<ann::MaxPool2d<float>*>(&l)) {
        const std::string n = pool->name();
        dev.add(std::make_unique<cuda::MaxPool2d>(name_field(n, "kernel_size", 2), name_field(n, "stride", 2), ctx));
    } else if (dynamic_cast<ReLU<float>*>(&l)) {
        dev.add(std::make_unique<cuda::Activation>(CUDNN_ACTIVATION_RELU, ctx));
    } else if (dynamic_cast<Sigmoid<float>*>(&l)) {
        dev.add(std::make_unique<cuda::Activation>(CUDNN_ACTIVATION_SIGMOID, ctx));
    } else if (dynamic_cast<Tanh<float>*>(&l)) {
        dev.add(std::make_unique<cuda::Activation>(CUDNN_ACTIVATION_TANH, ctx));
    } else if (dynamic_cast<ann::Flatten<float>*>(&l)) {
        dev.add(std::make_unique<cuda::Flatten>(ctx));
    } else {
        fail("to_device: the CUDA backend has no counterpart for layer ", l.name());
    }
}

}  // namespace detail

// Mirrors `cpu` on the GPU of `ctx` and copies its parameters there.
inline DeviceModel to_device(Sequential<float>& cpu, Context& ctx = Context::get()) {
    DeviceModel dev(ctx);
    for (std::size_t i = 0; i < cpu.size(); ++i) detail::mirror_into(dev, cpu[i], ctx);
    dev.copy_parameters_from(cpu);
    dev.zero_grad();
    ctx.synchronize();
    return dev;
}

}  // namespace ann::cuda
