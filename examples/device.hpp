#pragma once
// --device cpu|cuda for the example programs: the device named on the command line, ready to
// use, or an ann::Error that says why not (no CUDA in this build, no GPU, ...).
// With CUDA (ANN_EXAMPLES_WITH_CUDA), examples/cuda_enable.cu, compiled by nvcc into a module the
// program loads on demand, registers the backend; everything else in the programs is plain C++
// and the same for both devices.
#include <cstdlib>
#include <string>

#include "ann/backend/registry.hpp"

#if ANN_EXAMPLES_WITH_CUDA
#include <dlfcn.h>

#include <filesystem>

namespace hw {
// Loads the CUDA backend module (examples/cuda_enable.cu, built next to this program) and lets it
// register the backend; if the module or its libraries cannot be loaded, the device is marked
// unavailable with dlopen's reason. The module stays loaded until the program ends.
inline void enable_cuda(bool deterministic) {
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    const std::string path = (exe.parent_path() / ANN_CUDA_PLUGIN_NAME).string();
    void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!module) {
        const char* why = dlerror();
        // dlerror names the file and the reason (the module, or one of the libraries it needs).
        ann::set_backend_unavailable(ann::Device::cuda, std::string("cannot load the CUDA backend module: ") +
                                                            (why ? why : path.c_str()));
        return;
    }
    using Enable = bool (*)(bool);
    auto enable = reinterpret_cast<Enable>(dlsym(module, "ann_examples_enable_cuda"));
    if (!enable) {
        ann::set_backend_unavailable(ann::Device::cuda, path + " is not ann's CUDA backend module (no entry point)");
        return;
    }
    enable(deterministic);
}
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
