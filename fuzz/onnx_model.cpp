// libFuzzer target for the ONNX importer (scripts/fuzz.sh onnx_model SECONDS).
// Properties checked, besides "no crash, hang, leak or sanitizer report":
//   - the only exception ann::onnx::parse throws is ann::Error;
//   - an accepted model exports again (to_bytes) and that export parses to the same layers.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ann/backend/cpu/backend.hpp"  // the CPU arithmetic, compiled into this program (backend/registry.hpp)
#include "ann/onnx/onnx.hpp"

namespace {
void require(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    try {
        auto net = ann::onnx::parse<float>(bytes, "fuzz input");
        ann::onnx::pb::ModelProto m;
        require(m.ParseFromArray(data, static_cast<int>(size)));
        // The input shape the importer accepted, without the batch dimension.
        ann::Shape chw;
        for (const auto& in : m.graph().input()) {
            bool weight = false;
            for (const auto& t : m.graph().initializer()) weight = weight || t.name() == in.name();
            if (weight) continue;
            const auto& dims = in.type().tensor_type().shape().dim();
            for (int i = 1; i < dims.size(); ++i) chw.push_back(static_cast<std::size_t>(dims[i].dim_value()));
        }
        auto again = ann::onnx::parse<float>(ann::onnx::to_bytes(net, chw), "re-exported");
        require(again.size() == net.size());
        for (std::size_t i = 0; i < net.size(); ++i) require(again[i].name() == net[i].name());
    } catch (const ann::Error&) {
    } catch (...) {
        std::abort();
    }
    return 0;
}
