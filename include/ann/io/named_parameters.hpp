#pragma once
// A model's tensors with stable names: "<layer index>.<name>" inside a Sequential (nested:
// "1.0.weight"), like the keys of PyTorch's state_dict for nn.Sequential; "<parameter index>.<name>"
// for any other layer. Files store these names so that a mismatch between a file and a model is
// reported by name.
//   named_parameters(model): the trainable tensors, in parameters() order.
//   named_state(model):      what a model file holds, PyTorch's state_dict order: each layer's
//                            parameters, then its buffers (BatchNorm2d's running statistics).
#include <string>
#include <utility>
#include <vector>

#include "ann/layers/sequential.hpp"

namespace ann::io {

// One tensor of a model file: its name, the model's tensor, and the rule its loaded values must
// satisfy (a buffer's ValueRule; parameters take any value).
template <class T>
struct NamedTensor {
    std::string name;
    Array<T>* tensor;
    ValueRule rule = ValueRule::any;
};
template <class T>
using NamedTensors = std::vector<NamedTensor<T>>;

namespace detail {

// Visits every leaf layer (not a Sequential) with its name prefix, in order.
template <class T, class F>
void for_each_leaf(Layer<T>& layer, const std::string& prefix, F&& f) {
    if (auto* seq = dynamic_cast<Sequential<T>*>(&layer)) {
        for (std::size_t i = 0; i < seq->size(); ++i) for_each_leaf((*seq)[i], prefix + std::to_string(i) + ".", f);
        return;
    }
    f(layer, prefix);
}

}  // namespace detail

template <class T>
std::vector<std::pair<std::string, Parameter<T>*>> named_parameters(Layer<T>& model) {
    std::vector<std::pair<std::string, Parameter<T>*>> out;
    if (dynamic_cast<Sequential<T>*>(&model)) {
        detail::for_each_leaf(model, "", [&](Layer<T>& l, const std::string& prefix) {
            for (auto* p : l.parameters()) out.emplace_back(prefix + p->name, p);
        });
    } else {
        const auto params = model.parameters();
        for (std::size_t i = 0; i < params.size(); ++i) out.emplace_back(std::to_string(i) + "." + params[i]->name, params[i]);
    }
    return out;
}

template <class T>
NamedTensors<T> named_state(Layer<T>& model) {
    NamedTensors<T> out;
    if (dynamic_cast<Sequential<T>*>(&model)) {
        detail::for_each_leaf(model, "", [&](Layer<T>& l, const std::string& prefix) {
            for (auto* p : l.parameters()) out.push_back({prefix + p->name, &p->value});
            for (auto* b : l.buffers()) out.push_back({prefix + b->name, &b->value, b->rule});
        });
    } else {
        std::size_t i = 0;
        for (auto* p : model.parameters()) out.push_back({std::to_string(i++) + "." + p->name, &p->value});
        for (auto* b : model.buffers()) out.push_back({std::to_string(i++) + "." + b->name, &b->value, b->rule});
    }
    return out;
}

}  // namespace ann::io
