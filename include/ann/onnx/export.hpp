#pragma once
// A Sequential written as an ONNX model (opset 13):
//   ann::onnx::save(model, "cnn_4.onnx", {3, 32, 32});   // input (N, 3, 32, 32), N left symbolic
// Linear -> Gemm (transB = 1), Conv2d -> Conv, MaxPool2d -> MaxPool, ReLU/Sigmoid/Tanh -> Relu/
// Sigmoid/Tanh, Flatten -> Flatten(axis = 1). Graph input "input", output "logits"; parameters are
// initializers named like ann's model files ("3.weight": layer 3's weight). Values are written as
// float32 whatever T is (what ONNX runtimes read). A layer without an ONNX form is an ann::Error
// naming it, and nothing is written; the file itself goes through the atomic writer.
#include <string>
#include <vector>

#include "ann/core/error.hpp"
#include "ann/io/atomic_file.hpp"
#include "ann/layers/activations.hpp"
#include "ann/layers/conv2d.hpp"
#include "ann/layers/flatten.hpp"
#include "ann/layers/linear.hpp"
#include "ann/layers/maxpool2d.hpp"
#include "ann/layers/sequential.hpp"
#include "ann/onnx/proto.hpp"

namespace ann::onnx {

namespace detail {

inline void set_ints(pb::NodeProto& n, const char* name, std::vector<std::int64_t> v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(pb::AttributeProto::INTS);
    for (auto x : v) a->add_ints(x);
}
inline void set_int(pb::NodeProto& n, const char* name, std::int64_t v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(pb::AttributeProto::INT);
    a->set_i(v);
}

template <class T>
void add_initializer(pb::GraphProto& g, const std::string& name, const Parameter<T>& p) {
    auto* t = g.add_initializer();
    t->set_name(name);
    t->set_data_type(pb::TensorProto::FLOAT);
    for (auto d : p.value.shape()) t->add_dims(static_cast<std::int64_t>(d));
    Tensor<T> host;
    const auto& v = p.value.host_values(host);
    std::string raw(v.size() * sizeof(float), '\0');  // raw_data: little-endian float32, as x86 stores it
    float* out = reinterpret_cast<float*>(raw.data());
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = static_cast<float>(v.data()[i]);
    t->set_raw_data(std::move(raw));
}

inline void set_value_info(pb::ValueInfoProto& vi, const std::string& name, const Shape& shape) {
    vi.set_name(name);
    auto* tt = vi.mutable_type()->mutable_tensor_type();
    tt->set_elem_type(pb::TensorProto::FLOAT);
    auto* sh = tt->mutable_shape();
    sh->add_dim()->set_dim_param("N");
    for (std::size_t i = 1; i < shape.size(); ++i) sh->add_dim()->set_dim_value(static_cast<std::int64_t>(shape[i]));
}

}  // namespace detail

// The model as ONNX bytes; input_chw is one input's shape without the batch: {C, H, W} or {F}.
template <class T>
std::string to_bytes(Sequential<T>& model, const Shape& input_chw) {
    if (model.size() == 0) fail("onnx::save: the model has no layers");
    pb::ModelProto m;
    m.set_ir_version(kIrVersion);
    m.set_producer_name("ann");
    m.set_producer_version("0.1.0");
    auto* op = m.add_opset_import();
    op->set_domain("");
    op->set_version(kOpset);
    pb::GraphProto& g = *m.mutable_graph();
    g.set_name("ann");

    Shape shape{1};
    shape.insert(shape.end(), input_chw.begin(), input_chw.end());
    detail::set_value_info(*g.add_input(), "input", shape);
    std::string cur = "input";
    for (std::size_t i = 0; i < model.size(); ++i) {
        Layer<T>& l = model[i];
        const std::string at = std::to_string(i);
        const std::string out = i + 1 == model.size() ? "logits" : "t" + at;
        try {
            shape = l.output_shape(shape);
        } catch (const Error& e) {
            fail("onnx::save: layer ", i, " (", l.name(), ") does not take the input shape given: ", e.what());
        }
        pb::NodeProto& n = *g.add_node();
        n.set_name(at + "." + l.name().substr(0, l.name().find('(')));
        n.add_input(cur);
        n.add_output(out);
        if (auto* c = dynamic_cast<Conv2d<T>*>(&l)) {
            n.set_op_type("Conv");
            n.add_input(at + ".weight");
            detail::add_initializer(g, at + ".weight", c->weight());
            if (c->has_bias()) {
                n.add_input(at + ".bias");
                detail::add_initializer(g, at + ".bias", c->bias());
            }
            const auto k = static_cast<std::int64_t>(c->kernel_size()), s = static_cast<std::int64_t>(c->stride()),
                       p = static_cast<std::int64_t>(c->padding());
            detail::set_ints(n, "kernel_shape", {k, k});
            detail::set_ints(n, "strides", {s, s});
            detail::set_ints(n, "pads", {p, p, p, p});
        } else if (auto* f = dynamic_cast<Linear<T>*>(&l)) {
            n.set_op_type("Gemm");
            n.add_input(at + ".weight");
            detail::add_initializer(g, at + ".weight", f->weight());
            if (f->has_bias()) {
                n.add_input(at + ".bias");
                detail::add_initializer(g, at + ".bias", f->bias());
            }
            detail::set_int(n, "transB", 1);
        } else if (auto* mp = dynamic_cast<MaxPool2d<T>*>(&l)) {
            n.set_op_type("MaxPool");
            const auto k = static_cast<std::int64_t>(mp->kernel_size()), s = static_cast<std::int64_t>(mp->stride());
            detail::set_ints(n, "kernel_shape", {k, k});
            detail::set_ints(n, "strides", {s, s});
        } else if (auto kind = activation_kind_of(l)) {
            n.set_op_type(*kind == ActivationKind::relu ? "Relu" : *kind == ActivationKind::sigmoid ? "Sigmoid" : "Tanh");
        } else if (dynamic_cast<Flatten<T>*>(&l)) {
            n.set_op_type("Flatten");
            detail::set_int(n, "axis", 1);
        } else {
            fail("onnx::save: layer ", i, " (", l.name(), ") has no ONNX form in ann (Linear, Conv2d, MaxPool2d, "
                 "ReLU, Sigmoid, Tanh, Flatten have)");
        }
        cur = out;
    }
    detail::set_value_info(*g.add_output(), "logits", shape);
    std::string bytes;
    if (!m.SerializeToString(&bytes)) fail("onnx::save: protobuf could not serialize the model");
    return bytes;
}

template <class T>
void save(Sequential<T>& model, const std::string& path, const Shape& input_chw) {
    std::string bytes;
    try {
        bytes = to_bytes(model, input_chw);
    } catch (const Error& e) {
        fail(path, ": ", e.what());
    }
    io::write_file_atomic(path, bytes);
}

}  // namespace ann::onnx
