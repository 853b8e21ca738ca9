#pragma once
// A model's parameters with stable names, in parameters() order: "<layer index>.<name>" inside
// a Sequential (nested: "1.0.weight"), like the keys of PyTorch's state_dict for nn.Sequential;
// "<parameter index>.<name>" for any other layer. Files store these names so that a mismatch
// between a file and a model is reported by name.
#include <string>
#include <utility>
#include <vector>

#include "ann/layers/sequential.hpp"

namespace ann::io {

template <class T>
void append_named_parameters(Layer<T>& layer, const std::string& prefix,
                             std::vector<std::pair<std::string, Parameter<T>*>>& out) {
    if (auto* seq = dynamic_cast<Sequential<T>*>(&layer)) {
        for (std::size_t i = 0; i < seq->size(); ++i)
            append_named_parameters((*seq)[i], prefix + std::to_string(i) + ".", out);
        return;
    }
    for (auto* p : layer.parameters()) out.emplace_back(prefix + p->name, p);
}

template <class T>
std::vector<std::pair<std::string, Parameter<T>*>> named_parameters(Layer<T>& model) {
    std::vector<std::pair<std::string, Parameter<T>*>> out;
    if (dynamic_cast<Sequential<T>*>(&model)) {
        append_named_parameters(model, "", out);
    } else {
        const auto params = model.parameters();
        for (std::size_t i = 0; i < params.size(); ++i) out.emplace_back(std::to_string(i) + "." + params[i]->name, params[i]);
    }
    return out;
}

}  // namespace ann::io
