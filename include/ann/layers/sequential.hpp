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
//
// In eval mode a Sequential runs each Conv2d together with the activation and the MaxPool2d
// right after it (either one may be missing) as ONE backend call (conv2d_forward_fused): each
// image is convolved, activated and pooled while it is in cache, nothing is kept for backward.
// The values are the same bits as the layers one by one; the layers and their API do not
// change (their own output buffers are simply not used), much as oneDNN applies post-ops.
// fuse_in_eval(false) runs the layers one by one (the tests compare the two).
#include <algorithm>
#include <array>
#include <iomanip>
#include <memory>
#include <sstream>
#include <string_view>
#include <utility>

#include "ann/layers/activations.hpp"
#include "ann/layers/conv2d.hpp"
#include "ann/layers/layer.hpp"
#include "ann/layers/maxpool2d.hpp"

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
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            try {
                cur = layers_[i]->output_shape(cur);
            } catch (const Error& e) {
                throw Error(at(i, e.what()));
            }
        }
        return cur;
    }

    const Array<T>& forward(const Array<T>& x) override {
        if (layers_.empty()) fail("Sequential: forward on an empty model");
        check_shapes(x.shape());
        fused_last_ = false;
        if (!this->is_training() && fuse_) return forward_fused(x);
        const Array<T>* cur = &x;
        for (std::size_t i = 0; i < layers_.size(); ++i) cur = at_layer(i, [&] { return &layers_[i]->forward(*cur); });
        return *cur;
    }

    // Whether eval-mode forward fuses Conv2d -> activation -> MaxPool2d (default: yes).
    void fuse_in_eval(bool on) { fuse_ = on; }
    bool fuses_in_eval() const { return fuse_; }

    const Array<T>& backward(const Array<T>& dy) override {
        if (layers_.empty()) fail("Sequential: backward on an empty model");
        if (fused_last_)
            fail("Sequential: backward after a forward in eval mode (its convolutions kept nothing for backward; "
                 "call train() and forward again)");
        // Without an input gradient, nothing before the first layer with parameters needs
        // one: the pass ends there.
        const std::size_t first = this->input_grad_ ? 0 : first_parametric_index();
        for (std::size_t i = first; i < layers_.size(); ++i) layers_[i]->requires_input_grad(this->input_grad_ || i > first);
        const Array<T>* cur = &dy;
        for (std::size_t i = layers_.size(); i-- > first;) cur = at_layer(i, [&] { return &layers_[i]->backward(*cur); });
        return first == 0 ? *cur : this->no_input_grad_;
    }

    std::vector<Parameter<T>*> parameters() override {
        std::vector<Parameter<T>*> all;
        for (auto& l : layers_)
            for (auto* p : l->parameters()) all.push_back(p);
        return all;
    }

    std::vector<Buffer<T>*> buffers() override {
        std::vector<Buffer<T>*> all;
        for (auto& l : layers_)
            for (auto* b : l->buffers()) all.push_back(b);
        return all;
    }

    void to(Device d) override {
        Layer<T>::to(d);
        for (auto& l : layers_) l->to(d);
    }

    void set_first_image(std::size_t first) override {
        Layer<T>::set_first_image(first);
        for (auto& l : layers_) l->set_first_image(first);
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

    // A table like torchinfo's: each layer's output shape and parameter count for the given
    // input shape, then the totals. A shape no layer accepts is the same error forward gives.
    std::string summary(const Shape& input) {
        check_shapes(input);
        std::vector<std::array<std::string, 4>> rows{{"#", "layer", "output shape", "parameters"}};
        Shape cur = input;
        rows.push_back({"", "input", shape_str(cur), ""});
        std::size_t total = 0, trainable_bytes = 0;
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            cur = layers_[i]->output_shape(cur);
            const std::size_t n = layers_[i]->num_parameters();
            total += n;
            rows.push_back({std::to_string(i), layers_[i]->name(), shape_str(cur), n ? group_digits(n) : "-"});
        }
        trainable_bytes = total * sizeof(T);
        std::array<std::size_t, 4> width{};
        for (const auto& r : rows)
            for (std::size_t c = 0; c < 4; ++c) width[c] = std::max(width[c], r[c].size());
        std::ostringstream os;
        auto line = [&](const std::array<std::string, 4>& r) {
            os << std::setw(int(width[0])) << r[0] << "  " << std::left << std::setw(int(width[1])) << r[1] << "  "
               << std::setw(int(width[2])) << r[2] << std::right << "  " << std::setw(int(width[3])) << r[3] << '\n';
        };
        for (const auto& r : rows) line(r);
        os << "total parameters: " << group_digits(total) << " (" << trainable_bytes / 1024 << " KiB as "
           << (sizeof(T) == 4 ? "float32" : "float64") << ")\n";
        return os.str();
    }

private:
    // Runs f (one layer's forward or backward); an ann::Error from it names the layer's index.
    template <class F>
    decltype(auto) at_layer(std::size_t i, F&& f) {
        try {
            return f();
        } catch (const Error& e) {
            throw Error(at(i, e.what()));
        }
    }
    // "layer 4 (Linear(...)): <msg>", without repeating the name where msg starts with it.
    std::string at(std::size_t i, const std::string& msg) const {
        const std::string name = layers_[i]->name();
        std::string_view rest(msg);
        if (rest.substr(0, name.size() + 2) == name + ": ") rest.remove_prefix(name.size() + 2);
        return "layer " + std::to_string(i) + " (" + name + "): " + std::string(rest);
    }

    // Every layer's input shape before anything runs: a shape a layer rejects is reported with
    // the layer's index and where that shape came from (the model's input or an earlier layer),
    // with the shapes along the way, so a wrong image size is traced back to its origin.
    void check_shapes(const Shape& input) const {
        Shape cur = input;
        for (std::size_t i = 0; i < layers_.size(); ++i) {
            try {
                cur = layers_[i]->output_shape(cur);
            } catch (const Error& e) {
                // Only now the shapes along the way, as text (forward runs this on every call).
                std::string trail = "input " + shape_str(input);
                Shape s = input;
                for (std::size_t j = 0; j < i; ++j) {
                    s = layers_[j]->output_shape(s);
                    trail += " -> " + std::to_string(j) + ": " + shape_str(s);
                }
                const std::string from = i == 0 ? "the model's input"
                                                : "the output of layer " + std::to_string(i - 1) + " (" +
                                                      layers_[i - 1]->name() + ")";
                fail(at(i, e.what()), "; that shape is ", from, " (shapes: ", trail, ")");
            }
        }
    }

    static std::string group_digits(std::size_t n) {
        std::string s = std::to_string(n), out;
        for (std::size_t k = 0; k < s.size(); ++k) {
            if (k && (s.size() - k) % 3 == 0) out += ',';
            out += s[k];
        }
        return out;
    }

    std::vector<std::unique_ptr<Layer<T>>> layers_;
    bool fuse_ = true, fused_last_ = false;
    std::vector<Array<T>> fused_out_;  // eval outputs of the fused groups, by first layer

    // Eval mode: each fusion group as one backend call (see the top of this file).
    const Array<T>& forward_fused(const Array<T>& x) {
        const Array<T>* cur = &x;
        fused_out_.resize(layers_.size());
        for (std::size_t i = 0; i < layers_.size();) {
            ConvEpilogue e;
            const std::size_t end = fusion_end(i, e);
            if (end == i + 1) {
                cur = at_layer(i, [&] { return &layers_[i]->forward(*cur); });
            } else {
                at_layer(i, [&] { static_cast<Conv2d<T>&>(*layers_[i]).forward_fused(*cur, e, fused_out_[i]); });
                cur = &fused_out_[i];
                fused_last_ = true;
            }
            i = end;
        }
        return *cur;
    }

    // One past the last layer of the fused group that starts at i (i + 1: no group), with
    // the group's epilogue in e: a Conv2d, then an activation, then a MaxPool2d, the last two
    // each optional but not both missing.
    std::size_t fusion_end(std::size_t i, ConvEpilogue& e) const {
        if (!dynamic_cast<const Conv2d<T>*>(layers_[i].get())) return i + 1;
        std::size_t j = i + 1;
        if (j < layers_.size())
            if (const auto kind = activation_kind_of(*layers_[j])) {
                e.activate = true;
                e.activation = *kind;
                ++j;
            }
        if (j < layers_.size())
            if (const auto* pool = dynamic_cast<const MaxPool2d<T>*>(layers_[j].get())) {
                e.pool_k = int(pool->kernel_size());
                e.pool_s = int(pool->stride());
                ++j;
            }
        return j;
    }
};

}  // namespace ann
