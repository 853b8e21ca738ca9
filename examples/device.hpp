#pragma once
// --device cpu|cuda for the example programs: the device named on the command line, ready to
// use, or an ann::Error that says why not (no CUDA in this build, no GPU, ...).
// With CUDA (ANN_EXAMPLES_WITH_CUDA), examples/cuda_enable.cu, compiled by nvcc, registers the
// backend; everything else in the programs is plain C++ and the same for both devices.
#include <cstdlib>
#include <string>

#include "ann/backend/registry.hpp"

#if ANN_EXAMPLES_WITH_CUDA
namespace hw {
// examples/cuda_enable.cu: registers the CUDA backend, or records why it cannot.
bool enable_cuda(bool deterministic);
}  // namespace hw
#endif

namespace hw {

inline constexpr const char* kDeviceHelp =
    "Where to train and evaluate: cpu or cuda (an NVIDIA GPU through cuDNN/cuBLAS, float32; "
    "same model, loop, checkpoints and result files: docs/cuda.md). A checkpoint of one device "
    "resumes on the other";

inline ann::Device select_device(const std::string& name, bool fast_nondeterministic = false) {
    const ann::Device d = ann::parse_device(name);
    if (d == ann::Device::cuda) {
#if ANN_EXAMPLES_WITH_CUDA
        enable_cuda(!fast_nondeterministic);
#else
        (void)fast_nondeterministic;
        ann::set_backend_unavailable(d, "this program was built without CUDA (configure with nvcc, cuBLAS and "
                                        "cuDNN 9 found: docs/cuda.md)");
#endif
    } else if (fast_nondeterministic) {
        ann::fail("--fast-nondeterministic applies to --device cuda only");
    }
    ann::backend<float>(d);  // throws, naming the reason, when the device cannot be used
    return d;
}

}  // namespace hw
