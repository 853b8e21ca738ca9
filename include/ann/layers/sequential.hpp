#pragma once
// Sequential: layers applied in order, like torch.nn.Sequential. Its backward runs the
// layers' backward in reverse order: model.backward(loss.backward()).
//
// Like PyTorch, where a batch does not require grad, a Sequential does NOT compute the gradient
// of its input by default: backward stops at its first layer with parameters, which computes its
// parameter gradients but not its input gradient (that is a whole backward-data pass of the first
// convolution, or the largest GEMM of an MLP's step, that nothing reads), and returns an empty
// Array. requires_input_grad(true) restores the full pass (gradient checks, a Sequential used as
// a block after other layers: an enclosing Sequential sets this for its inner blocks itself).
#include <memory>
#include <sstream>
#include <utility>

#include "ann/layers/layer.hpp"

namespace ann {

template <class T>
class Sequential : public Layer<T> {
public:
    Sequential() { this->input_grad_ = false; }

    template <class L, class... Args>
    L& emplace(Args&&... args) {
        auto layer = std::make_unique<L>(std::forward<Args>(args)...);
        L& ref = *layer;
        layers_.push_back(std::move(layer));
        return ref;
    }
    Sequential& add(std::unique_ptr<Layer<T>> layer) {
        if (!layer) fail("Sequential::add: null layer");
        layers_.push_back(std::move(layer));
        return *this;
    }

    std::size_t size() const { return layers_.size(); }
    Layer<T>& operator[](std::size_t i) {
        if (i >= layers_.size()) fail("Sequential: index ", i, " out of range (", layers_.size(), " layers)");
        return *layers_[i];
    }

    std::string name() const override { return "Sequential"; }

    Shape output_shape(const Shape& s) const override {
        Shape cur = s;
        for (const auto& l : layers_) cur = l->output_shape(cur);
        return cur;
    }

    const Array<T>& forward(const Array<T>& x) override {
        if (layers_.empty()) fail("Sequential: forward on an empty model");
        const Array<T>* cur = &x;
        for (auto& l : layers_) cur = &l->forward(*cur);
        return *cur;
    }

    const Array<T>& backward(const Array<T>& dy) override {
        if (layers_.empty()) fail("Sequential: backward on an empty model");
        // Without an input gradient, nothing before the first layer with parameters needs
        // one: the pass ends there.
        const std::size_t first = this->input_grad_ ? 0 : first_parametric_index();
        for (std::size_t i = first; i < layers_.size(); ++i) layers_[i]->requires_input_grad(this->input_grad_ || i > first);
        const Array<T>* cur = &dy;
        for (std::size_t i = layers_.size(); i-- > first;) cur = &layers_[i]->backward(*cur);
        return first == 0 ? *cur : this->no_input_grad_;
    }

    std::vector<Parameter<T>*> parameters() override {
        std::vector<Parameter<T>*> all;
        for (auto& l : layers_)
            for (auto* p : l->parameters()) all.push_back(p);
        return all;
    }

    void to(Device d) override {
        Layer<T>::to(d);
        for (auto& l : layers_) l->to(d);
    }

    void train(bool on = true) override {
        Layer<T>::train(on);
        for (auto& l : layers_) l->train(on);
    }

    // Index of the first layer that has parameters (the number of layers if none has).
    std::size_t first_parametric_index() {
        for (std::size_t i = 0; i < layers_.size(); ++i)
            if (!layers_[i]->parameters().empty()) return i;
        return layers_.size();
    }

    // The first layer that has parameters (the homework reads its weights and gradient).
    Layer<T>& first_parametric_layer() {
        for (auto& l : layers_)
            if (!l->parameters().empty()) return *l;
        fail("Sequential: no layer has parameters");
    }

    // A torch-like printout, with each layer's output shape for the given input shape.
    std::string summary(const Shape& input) const {
        std::ostringstream os;
        Shape cur = input;
        os << "input " << shape_str(cur) << '\n';
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            cur = layers_[i]->output_shape(cur);
            os << "  (" << i << ") " << layers_[i]->name() << " -> " << shape_str(cur) << '\n';
        }
        return os.str();
    }

private:
    std::vector<std::unique_ptr<Layer<T>>> layers_;
};

}  // namespace ann
