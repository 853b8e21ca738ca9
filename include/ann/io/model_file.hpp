#pragma once
// Saving and loading a network's parameters (docs/file-format.md):
//   save_model("net.annm", model, "cnn_3");   load_model("net.annm", model, "cnn_3");
// The file names the architecture and every tensor's name, dtype and shape. Loading checks
// all of them against the target model before touching it: a file for another architecture,
// a truncated or corrupt file, or one from a newer format version is an ann::Error, and a
// failed load leaves the model exactly as it was. Values round-trip bit for bit. Buffers whose
// layer declares a ValueRule (BatchNorm2d's running_var >= 0) are checked against it as well.
//
// Model payload ("model section", also the first part of a checkpoint's payload):
//   string architecture | u32 tensor count | tensor records (io/tensor_record.hpp)
// The tensors are the model's named_state (io/named_parameters.hpp): parameters and buffers.
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ann/io/atomic_file.hpp"
#include "ann/io/file_header.hpp"
#include "ann/io/named_parameters.hpp"
#include "ann/io/read_file.hpp"
#include "ann/io/tensor_record.hpp"

namespace ann::io {

struct ModelRecord {
    std::string architecture;
    std::vector<TensorRecord> tensors;
};

template <class T>
void write_model_section(ByteWriter& w, Layer<T>& model, const std::string& architecture) {
    const auto state = named_state(model);
    w.string(architecture);
    w.u32(static_cast<std::uint32_t>(state.size()));
    for (const auto& t : state) write_tensor_record(w, t.name, *t.tensor);
}

inline ModelRecord read_model_section(ByteReader& r) {
    ModelRecord rec;
    rec.architecture = r.string("architecture name", kMaxNameLength);
    const std::uint32_t count = r.u32("tensor count");
    // No reserve(count): count is untrusted; each record consumes bytes, so the loop is
    // bounded by the file size.
    for (std::uint32_t i = 0; i < count; ++i) rec.tensors.push_back(read_tensor_record(r, "tensor " + std::to_string(i)));
    return rec;
}

// Parses a whole model file (header checks included) without needing a model.
inline ModelRecord parse_model_file(std::string_view file, const std::string& source) {
    ByteReader r(unframe_file(file, kModelMagic, source), source);
    ModelRecord rec = read_model_section(r);
    if (r.remaining() != 0) r.fail_at(r.offset(), r.remaining(), " unexpected bytes after the last tensor");
    return rec;
}

// The model's new parameter and buffer values, checked against the model but not yet applied.
template <class T>
std::vector<Tensor<T>> stage_model(const ModelRecord& rec, Layer<T>& model, const std::string& architecture,
                                   const std::string& source) {
    if (rec.architecture != architecture)
        fail(source, ": holds a '", rec.architecture, "' model, expected '", architecture, "'");
    const auto state = named_state(model);
    if (rec.tensors.size() != state.size())
        fail(source, ": holds ", rec.tensors.size(), " parameter tensors, the '", architecture, "' model has ",
             state.size());
    std::vector<Tensor<T>> values;
    for (std::size_t i = 0; i < state.size(); ++i) {
        const auto& [name, t, rule] = state[i];
        if (rec.tensors[i].name != name)
            fail(source, ": parameter tensor ", i, " is '", rec.tensors[i].name, "' in the file, the model's is '", name, "'");
        values.push_back(to_tensor<T>(rec.tensors[i], t->shape(), source, "parameter"));
        // A buffer's declared rule (core/parameter.hpp), e.g. a running variance >= 0.
        const Tensor<T>& v = values.back();
        for (std::size_t k = 0; k < v.size(); ++k)
            if (!satisfies(v.data()[k], rule))
                fail(source, ": tensor '", name, "' holds ", v.data()[k], " at index ", k, ", its values must be ",
                     to_string(rule));
    }
    return values;
}

// Cannot fail: the values were checked by stage_model. Copies into the existing buffers
// rather than swapping them, so anything holding a parameter's data pointer stays valid.
template <class T>
void commit_model(Layer<T>& model, const std::vector<Tensor<T>>& values) {
    const auto state = named_state(model);
    for (std::size_t i = 0; i < state.size(); ++i) state[i].tensor->copy_from(values[i]);
}

template <class T>
std::string encode_model(Layer<T>& model, const std::string& architecture) {
    ByteWriter w;
    write_model_section(w, model, architecture);
    return frame_file(kModelMagic, w.data());
}

template <class T>
void decode_model(std::string_view file, Layer<T>& model, const std::string& architecture, const std::string& source) {
    auto values = stage_model(parse_model_file(file, source), model, architecture, source);
    commit_model(model, values);
}

template <class T>
void save_model(const std::string& path, Layer<T>& model, const std::string& architecture) {
    write_file_atomic(path, encode_model(model, architecture));
}

template <class T>
void load_model(const std::string& path, Layer<T>& model, const std::string& architecture) {
    decode_model(read_file(path), model, architecture, path);
}

}  // namespace ann::io
