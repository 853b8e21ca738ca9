#pragma once
// An ONNX model read into a Sequential:
//   ann::Sequential<float> net = ann::onnx::load<float>("model.onnx");
// ann reads what its layers can express: a chain of Gemm (or MatMul by a 2-D weight: PyTorch's Linear
// without bias), Conv, MaxPool, Relu, Sigmoid, Tanh and Flatten nodes from one float input to one output, weights as float32 initializers (raw_data or
// float_data), default-domain opsets 7-18. That covers its own files and PyTorch's
// torch.onnx.export of such networks. Anything else (another op, an attribute value ann's layer does
// not have, a node off the chain, external data) is an ann::Error naming the file, the node and the
// op or attribute; so is a malformed file. Every count and shape is checked before anything is
// allocated from it (the rules of docs/robustness.md; fuzz/onnx_model.cpp).
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ann/core/error.hpp"
#include "ann/io/read_file.hpp"
#include "ann/layers/activations.hpp"
#include "ann/layers/conv2d.hpp"
#include "ann/layers/flatten.hpp"
#include "ann/layers/linear.hpp"
#include "ann/layers/maxpool2d.hpp"
#include "ann/layers/sequential.hpp"
#include "ann/onnx/proto.hpp"

namespace ann::onnx {

namespace detail {

// One node's attributes, each read at most once; those left unread at the end are refused.
class Attributes {
public:
    Attributes(const pb::NodeProto& n, std::string where) : where_(std::move(where)) {
        for (const auto& a : n.attribute()) {
            if (!attrs_.emplace(a.name(), &a).second) fail(where_, ": attribute '", a.name(), "' given twice");
        }
    }
    std::int64_t integer(const char* name, std::int64_t fallback) {
        const auto* a = take(name);
        if (!a) return fallback;
        if (a->type() != pb::AttributeProto::INT) fail(where_, ": attribute '", name, "' is not an integer");
        return a->i();
    }
    std::vector<std::int64_t> ints(const char* name, std::vector<std::int64_t> fallback) {
        const auto* a = take(name);
        if (!a) return fallback;
        if (a->type() != pb::AttributeProto::INTS) fail(where_, ": attribute '", name, "' is not a list of integers");
        return {a->ints().begin(), a->ints().end()};
    }
    float real(const char* name, float fallback) {
        const auto* a = take(name);
        if (!a) return fallback;
        if (a->type() != pb::AttributeProto::FLOAT) fail(where_, ": attribute '", name, "' is not a float");
        return a->f();
    }
    std::string text(const char* name, std::string fallback) {
        const auto* a = take(name);
        if (!a) return fallback;
        if (a->type() != pb::AttributeProto::STRING) fail(where_, ": attribute '", name, "' is not a string");
        return a->s();
    }
    void done() const {
        if (!attrs_.empty()) fail(where_, ": attribute '", attrs_.begin()->first, "' is not one ann reads");
    }

private:
    const pb::AttributeProto* take(const char* name) {
        auto it = attrs_.find(name);
        if (it == attrs_.end()) return nullptr;
        const auto* a = it->second;
        attrs_.erase(it);
        return a;
    }
    std::string where_;
    std::map<std::string, const pb::AttributeProto*> attrs_;
};

// An initializer's values as float, after checking its type, dims and byte count.
inline std::vector<float> tensor_values(const pb::TensorProto& t, const Shape& expected, const std::string& where) {
    if (t.data_location() == pb::TensorProto::EXTERNAL || t.external_data_size() > 0)
        fail(where, ": '", t.name(), "' keeps its values in an external file; ann reads them only from the model");
    if (t.data_type() != pb::TensorProto::FLOAT)
        fail(where, ": '", t.name(), "' has data type ", t.data_type(), ", ann reads float32 (1)");
    Shape dims;
    for (auto d : t.dims()) {
        if (d < 0 || static_cast<std::uint64_t>(d) > kMaxTensorElements) fail(where, ": '", t.name(), "' has dimension ", d);
        dims.push_back(static_cast<std::size_t>(d));
    }
    if (dims != expected) fail(where, ": '", t.name(), "' has shape ", shape_str(dims), ", expected ", shape_str(expected));
    std::size_t n = 1;
    for (auto d : dims) {
        n *= d;  // n and d are at most 2^28 here: no overflow
        if (n > kMaxTensorElements) fail(where, ": '", t.name(), "' has more than ", kMaxTensorElements, " values");
    }
    std::vector<float> v;
    if (t.has_raw_data()) {
        if (t.raw_data().size() != n * sizeof(float))
            fail(where, ": '", t.name(), "' has ", t.raw_data().size(), " bytes of data, its shape needs ", n * sizeof(float));
        v.resize(n);
        std::memcpy(v.data(), t.raw_data().data(), n * sizeof(float));
    } else {
        if (static_cast<std::size_t>(t.float_data_size()) != n)
            fail(where, ": '", t.name(), "' has ", t.float_data_size(), " values, its shape needs ", n);
        v.assign(t.float_data().begin(), t.float_data().end());
    }
    return v;
}

template <class T>
void set_values(Parameter<T>& p, const std::vector<float>& v) {
    Tensor<T> t = Tensor<T>::from_shape(p.value.shape());
    for (std::size_t i = 0; i < v.size(); ++i) t.data()[i] = static_cast<T>(v[i]);
    p.value.copy_from(t);
}

inline std::size_t positive(std::int64_t v, const std::string& where, const char* what) {
    if (v <= 0 || static_cast<std::uint64_t>(v) > kMaxTensorElements) fail(where, ": ", what, " ", v, " is not a positive size");
    return static_cast<std::size_t>(v);
}

// The input's shape without the batch dimension: (C, H, W) or (F), every size known.
inline Shape input_shape(const pb::ValueInfoProto& in, const std::string& source) {
    const std::string where = source + ": graph input '" + in.name() + "'";
    if (!in.type().has_tensor_type()) fail(where, " is not a tensor");
    const auto& tt = in.type().tensor_type();
    if (tt.elem_type() != pb::TensorProto::FLOAT) fail(where, " has element type ", tt.elem_type(), ", ann reads float32 (1)");
    const auto& dims = tt.shape().dim();
    if (dims.size() != 4 && dims.size() != 2) fail(where, " has rank ", dims.size(), "; ann reads (N, C, H, W) or (N, F)");
    Shape s{1};
    for (int i = 1; i < dims.size(); ++i) {
        if (!dims[i].has_dim_value()) fail(where, ": dimension ", i, " has no fixed size");
        s.push_back(positive(dims[i].dim_value(), where, "dimension"));
    }
    return s;
}

}  // namespace detail

// The model held in `bytes`; `source` names it in errors (a path).
template <class T>
Sequential<T> parse(std::string_view bytes, const std::string& source) {
    if (bytes.size() > kMaxFileBytes) fail(source, ": ", bytes.size(), " bytes, more than an ONNX model ann reads (", kMaxFileBytes, ")");
    pb::ModelProto m;
    if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
        fail(source, ": not an ONNX model (its protobuf does not parse)");
    bool has_opset = false;
    for (const auto& o : m.opset_import()) {
        if (o.domain() != "" && o.domain() != "ai.onnx") continue;  // other domains: only their ops would matter
        has_opset = true;
        if (o.version() < kMinOpset || o.version() > kMaxOpset)
            fail(source, ": opset ", o.version(), "; ann reads opsets ", kMinOpset, " to ", kMaxOpset);
    }
    if (!has_opset) fail(source, ": no opset of the default ONNX domain is imported");
    const pb::GraphProto& g = m.graph();
    if (static_cast<std::size_t>(g.node_size()) > kMaxNodes) fail(source, ": ", g.node_size(), " nodes, more than ", kMaxNodes);
    if (g.node_size() == 0) fail(source, ": the graph has no nodes");

    std::map<std::string, const pb::TensorProto*> init;
    for (const auto& t : g.initializer())
        if (!init.emplace(t.name(), &t).second) fail(source, ": initializer '", t.name(), "' is given twice");
    // Graph inputs that are not initializers (older exporters list the weights as inputs too).
    const pb::ValueInfoProto* input = nullptr;
    for (const auto& in : g.input()) {
        if (init.count(in.name())) continue;
        if (input) fail(source, ": the graph has two inputs ('", input->name(), "', '", in.name(), "'); ann reads one");
        input = &in;
    }
    if (!input) fail(source, ": the graph has no input");
    if (g.output_size() != 1) fail(source, ": the graph has ", g.output_size(), " outputs; ann reads one");

    Sequential<T> net;
    Shape shape = detail::input_shape(*input, source);
    std::string cur = input->name();
    std::set<std::string> used;
    auto weight = [&](const pb::NodeProto& n, int k, const std::string& where) -> const pb::TensorProto& {
        const auto it = init.find(n.input(k));
        if (it == init.end()) fail(where, ": input ", k, " ('", n.input(k), "') is not an initializer");
        if (!used.insert(n.input(k)).second) fail(where, ": initializer '", n.input(k), "' is used twice");
        return *it->second;
    };
    for (int i = 0; i < g.node_size(); ++i) {
        const pb::NodeProto& n = g.node(i);
        const std::string where = source + ": node " + std::to_string(i) + " (" + n.op_type() + ", '" + n.name() + "')";
        if (n.domain() != "" && n.domain() != "ai.onnx") fail(where, ": domain '", n.domain(), "' is not ONNX's default");
        if (n.input_size() < 1 || n.input(0) != cur)
            fail(where, ": does not take the previous node's output '", cur, "' as its first input (ann reads a chain)");
        if (n.output_size() != 1) fail(where, ": has ", n.output_size(), " outputs; ann reads nodes with one");
        detail::Attributes a(n, where);
        const std::string& op = n.op_type();
        try {
            if (op == "Conv") {
                if (n.input_size() < 2 || n.input_size() > 3) fail(where, ": expected 2 or 3 inputs, got ", n.input_size());
                const auto& w = weight(n, 1, where);
                if (w.dims_size() != 4) fail(where, ": weight '", w.name(), "' has rank ", w.dims_size(), ", expected 4");
                const std::size_t O = detail::positive(w.dims(0), where, "output channels"),
                                  C = detail::positive(w.dims(1), where, "input channels"),
                                  k = detail::positive(w.dims(2), where, "kernel height");
                if (w.dims(3) != w.dims(2)) fail(where, ": kernel ", w.dims(2), "x", w.dims(3), " is not square");
                const auto ks = a.ints("kernel_shape", {w.dims(2), w.dims(3)});
                const auto st = a.ints("strides", {1, 1});
                const auto pads = a.ints("pads", {0, 0, 0, 0});
                const auto dil = a.ints("dilations", {1, 1});
                const auto group = a.integer("group", 1);
                const auto pad_mode = a.text("auto_pad", "NOTSET");
                a.done();
                if (ks != std::vector<std::int64_t>{w.dims(2), w.dims(3)}) fail(where, ": kernel_shape disagrees with the weight");
                if (st.size() != 2 || st[0] != st[1]) fail(where, ": strides must be two equal values");
                if (pads.size() != 4 || pads[0] != pads[1] || pads[0] != pads[2] || pads[0] != pads[3] || pads[0] < 0)
                    fail(where, ": pads must be four equal values (ann's Conv2d pads all sides alike)");
                if (dil != std::vector<std::int64_t>{1, 1}) fail(where, ": dilations other than 1 are not in ann's Conv2d");
                if (group != 1) fail(where, ": group ", group, " (ann's Conv2d has groups = 1)");
                if (pad_mode != "NOTSET") fail(where, ": auto_pad ", pad_mode, " (ann reads explicit pads)");
                const bool bias = n.input_size() == 3;
                // The values first: their byte count is checked against the file, so the layer
                // below allocates only what the file really holds.
                const auto wv = detail::tensor_values(w, {O, C, k, k}, where);
                const auto bv = bias ? detail::tensor_values(weight(n, 2, where), {O}, where) : std::vector<float>{};
                auto& c = net.template emplace<Conv2d<T>>(C, O, k, detail::positive(st[0], where, "stride"),
                                                          static_cast<std::size_t>(pads[0]), bias);
                shape = c.output_shape(shape);  // the channels and size fit, or an error naming both
                detail::set_values(c.weight(), wv);
                if (bias) detail::set_values(c.bias(), bv);
            } else if (op == "Gemm" || op == "MatMul") {
                // MatMul with a 2-D weight is how PyTorch exports a Linear without bias: y = x W, W (in, out).
                const bool gemm = op == "Gemm";
                if (n.input_size() < 2 || n.input_size() > (gemm ? 3 : 2))
                    fail(where, ": expected ", gemm ? "2 or 3" : "2", " inputs, got ", n.input_size());
                const auto& w = weight(n, 1, where);
                const auto alpha = gemm ? a.real("alpha", 1.f) : 1.f, beta = gemm ? a.real("beta", 1.f) : 1.f;
                const auto trans_a = gemm ? a.integer("transA", 0) : 0, trans_b = gemm ? a.integer("transB", 0) : 0;
                a.done();
                if (alpha != 1.f || beta != 1.f || trans_a != 0) fail(where, ": alpha, beta must be 1 and transA 0 (ann's Linear)");
                if (w.dims_size() != 2) fail(where, ": weight '", w.name(), "' has rank ", w.dims_size(), ", expected 2");
                const std::size_t out = detail::positive(trans_b ? w.dims(0) : w.dims(1), where, "output features"),
                                  in = detail::positive(trans_b ? w.dims(1) : w.dims(0), where, "input features");
                const bool bias = n.input_size() == 3;
                auto v = detail::tensor_values(w, trans_b ? Shape{out, in} : Shape{in, out}, where);  // before allocating
                std::vector<float> bv;
                if (bias) {
                    const auto& b = weight(n, 2, where);
                    // (out) or (1, out): both broadcast the same way over the rows.
                    bv = detail::tensor_values(b, b.dims_size() == 2 ? Shape{1, out} : Shape{out}, where);
                }
                auto& f = net.template emplace<Linear<T>>(in, out, bias);
                shape = f.output_shape(shape);
                if (!trans_b) {  // (in, out) -> ann's (out, in)
                    std::vector<float> t(v.size());
                    for (std::size_t r = 0; r < in; ++r)
                        for (std::size_t c = 0; c < out; ++c) t[c * in + r] = v[r * out + c];
                    v.swap(t);
                }
                detail::set_values(f.weight(), v);
                if (bias) detail::set_values(f.bias(), bv);
            } else if (op == "MaxPool") {
                if (n.input_size() != 1) fail(where, ": expected 1 input, got ", n.input_size());
                const auto ks = a.ints("kernel_shape", {});
                const auto st = a.ints("strides", {1, 1});
                const auto pads = a.ints("pads", {0, 0, 0, 0});
                const auto dil = a.ints("dilations", {1, 1});
                const auto ceil = a.integer("ceil_mode", 0), order = a.integer("storage_order", 0);
                const auto pad_mode = a.text("auto_pad", "NOTSET");
                a.done();
                if (ks.size() != 2 || ks[0] != ks[1]) fail(where, ": kernel_shape must be two equal values");
                if (st.size() != 2 || st[0] != st[1]) fail(where, ": strides must be two equal values");
                if (pads != std::vector<std::int64_t>{0, 0, 0, 0} || dil != std::vector<std::int64_t>{1, 1} || ceil != 0 ||
                    order != 0 || pad_mode != "NOTSET")
                    fail(where, ": padding, dilation, ceil_mode and auto_pad are not in ann's MaxPool2d");
                auto& p = net.template emplace<MaxPool2d<T>>(detail::positive(ks[0], where, "kernel"),
                                                             detail::positive(st[0], where, "stride"));
                shape = p.output_shape(shape);
            } else if (op == "Relu" || op == "Sigmoid" || op == "Tanh") {
                if (n.input_size() != 1) fail(where, ": expected 1 input, got ", n.input_size());
                a.done();
                if (op == "Relu") net.template emplace<ReLU<T>>();
                if (op == "Sigmoid") net.template emplace<Sigmoid<T>>();
                if (op == "Tanh") net.template emplace<Tanh<T>>();
            } else if (op == "Flatten") {
                if (n.input_size() != 1) fail(where, ": expected 1 input, got ", n.input_size());
                const auto axis = a.integer("axis", 1);
                a.done();
                if (axis != 1) fail(where, ": axis ", axis, " (ann's Flatten keeps the batch: axis 1)");
                shape = net.template emplace<Flatten<T>>().output_shape(shape);
            } else {
                fail(where, ": op ", op, " is not one ann reads (Gemm, MatMul, Conv, MaxPool, Relu, Sigmoid, Tanh, Flatten)");
            }
        } catch (const Error& e) {
            const std::string what = e.what();
            if (what.rfind(source, 0) == 0) throw;
            fail(where, ": ", what);  // a layer's own shape message, placed in the file
        }
        cur = n.output(0);
    }
    if (g.output(0).name() != cur) fail(source, ": the graph's output '", g.output(0).name(), "' is not the last node's");
    if (used.size() != init.size())
        for (const auto& [name, t] : init)
            if (!used.count(name)) fail(source, ": initializer '", name, "' is used by no node");
    return net;
}

template <class T>
Sequential<T> load(const std::string& path) {
    return parse<T>(io::read_file(path, kMaxFileBytes), path);
}

}  // namespace ann::onnx
